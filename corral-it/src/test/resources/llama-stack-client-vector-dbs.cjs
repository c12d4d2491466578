// Llama Stack 0.2.x's retrieval with the official TypeScript client (llama-stack-client 0.2.23): a vector database
// registered under the client's id, chunks inserted without embeddings (the server embeds them), queried, listed,
// unregistered. Prints what it saw.
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
  const listed = (await client.vectorDBs.list()).map((d) => d.identifier);
  const got = await client.vectorDBs.retrieve('my-docs');
  await client.vectorDBs.unregister('my-docs');
  const after = (await client.vectorDBs.list()).length;
  console.log(JSON.stringify({
    registered: [db.identifier, db.type, db.embedding_dimension], content: found.chunks[0].content,
    document: found.chunks[0].metadata.document_id, scores: found.scores.length, listed, model: got.embedding_model, after,
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
