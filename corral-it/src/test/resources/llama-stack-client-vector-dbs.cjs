// Llama Stack 0.2.x's retrieval with the official TypeScript client (llama-stack-client 0.2.23): a vector database
// registered under the client's id, chunks inserted without embeddings (the server embeds them), queried; documents
// inserted and searched through the RAG tool; listed, unregistered. Prints what it saw.
const { LlamaStackClient } = require('llama-stack-client');

async function main() {
  const client = new LlamaStackClient({ baseURL: process.argv[2], maxRetries: 0 });
  const model = process.argv[3];
  const db = await client.vectorDBs.register({ vector_db_id: 'my-docs', embedding_model: model, embedding_dimension: 384 });
  await client.vectorIo.insert({
    vector_db_id: 'my-docs',
    chunks: [
      { content: 'The Eiffel Tower is in Paris.', metadata: { document_id: 'paris' } },
      { content: 'Kyoto has many temples.', metadata: { document_id: 'kyoto' } },
    ],
  });
  const found = await client.vectorIo.query({ vector_db_id: 'my-docs', query: 'Where is the Eiffel Tower?', params: { max_chunks: 1 } });
  await client.toolRuntime.ragTool.insert({
    vector_db_id: 'my-docs', chunk_size_in_tokens: 512,
    documents: [
      { document_id: 'rome', content: 'The Colosseum stands in Rome.', mime_type: 'text/plain', metadata: { city: 'Rome' } },
      { document_id: 'oslo', content: 'data:text/plain;base64,' + Buffer.from('Oslo has a fjord.').toString('base64'), mime_type: 'text/plain', metadata: {} },
    ],
  });
  const rag = await client.toolRuntime.ragTool.query({ content: 'Where is the Colosseum?', vector_db_ids: ['my-docs'],
    query_config: { max_chunks: 2, max_tokens_in_context: 4096, chunk_template: 'Result {index}\nContent: {chunk.content}\nMetadata: {metadata}\n',
      query_generator_config: { type: 'default', separator: ' ' }, mode: 'vector' } });
  const ragText = rag.content.map((c) => c.text).join('');
  const fjord = await client.toolRuntime.ragTool.query({ content: 'Which city has a fjord?', vector_db_ids: ['my-docs'] });
  const listed = (await client.vectorDBs.list()).map((d) => d.identifier);
  const got = await client.vectorDBs.retrieve('my-docs');
  await client.vectorDBs.unregister('my-docs');
  const after = (await client.vectorDBs.list()).length;
  console.log(JSON.stringify({
    registered: [db.identifier, db.type, db.embedding_dimension], content: found.chunks[0].content,
    document: found.chunks[0].metadata.document_id, scores: found.scores.length, listed, model: got.embedding_model, after,
    rag: { first: rag.metadata.document_ids[0], begins: ragText.startsWith('knowledge_search tool found 2 chunks:'),
      colosseum: ragText.includes('Result 1\nContent: The Colosseum stands in Rome.'), oslo: fjord.metadata.document_ids[0] },
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
