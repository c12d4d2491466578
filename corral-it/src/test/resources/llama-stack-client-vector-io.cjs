// Llama Stack 0.7's low-level retrieval with the official TypeScript client (llama-stack-client 0.7.3): a vector store,
// chunks embedded by the client (the server's embeddings route) and put in with vector_io.insert, then found with
// vector_io.query and with the store's search; the admin inspection routes; a prompt's versions. Prints what it saw.
const { LlamaStackClient } = require('llama-stack-client');

async function main() {
  const client = new LlamaStackClient({ baseURL: process.argv[2], maxRetries: 0 });
  const model = process.argv[3];
  const store = await client.vectorStores.create({ name: 'notes' });
  const texts = ['Paris is the capital of France.', 'Lyon is known for silk weaving.', 'Bordeaux makes red wine.'];
  const embedded = await client.embeddings.create({ model, input: texts });
  await client.vectorIo.insert({
    vector_store_id: store.id,
    chunks: texts.map((text, i) => ({
      chunk_id: 'note-' + i, content: text, metadata: { document_id: 'doc-' + i, topic: i === 2 ? 'wine' : 'city' },
      chunk_metadata: { document_id: 'doc-' + i, source: 'notes.txt' },
      embedding: embedded.data[i].embedding, embedding_model: model, embedding_dimension: embedded.data[i].embedding.length,
    })),
  });
  const found = await client.vectorIo.query({ vector_store_id: store.id, query: 'Which city weaves silk?', params: { max_chunks: 2 } });
  const hybrid = await client.vectorIo.query({ vector_store_id: store.id, query: 'red wine', params: { mode: 'hybrid', max_chunks: 1 } });
  const search = await client.vectorStores.search(store.id, { query: 'wine', search_mode: 'keyword' });
  const alphaRoutes = (await client.routes.list({ api_filter: 'v1alpha' })).map((r) => r.route);
  const deprecated = (await client.routes.list({ api_filter: 'deprecated' })).map((r) => r.route);
  const admin = [(await client.alpha.admin.health()).status, (await client.alpha.admin.version()).version,
    (await client.alpha.admin.listProviders()).length > 0, alphaRoutes.length > 0 && alphaRoutes.every((r) => r.startsWith('/v1alpha/')),
    deprecated.includes('/v1/vector-dbs') && !deprecated.includes('/v1/vector_stores')];
  const prompt = await client.prompts.create({ prompt: 'Answer about {{ city }}.', variables: ['city'] });
  const second = await client.prompts.update(prompt.prompt_id, { prompt: 'Answer briefly about {{ city }}.', version: 1, variables: ['city'] });
  const first = await client.prompts.retrieve(prompt.prompt_id, { version: 1 });
  await client.prompts.setDefaultVersion(prompt.prompt_id, { version: 1 });
  const versions = (await client.prompts.versions.list(prompt.prompt_id)).map((p) => [p.version, p.is_default]);
  const listed = (await client.prompts.list()).map((p) => p.version);
  await client.prompts.delete(prompt.prompt_id);
  const prompts = { second: second.version, first: first.prompt, versions, listed, left: (await client.prompts.list()).length };
  console.log(JSON.stringify({ prompts,
    ids: found.chunks.map((c) => c.chunk_id), scores: found.scores, dimension: found.chunks[0].embedding.length,
    same: found.chunks[0].embedding[5] === embedded.data[1].embedding[5], source: found.chunks[0].chunk_metadata.source,
    hybrid: hybrid.chunks[0].content, search: search.data.map((d) => d.content[0].text), topic: search.data[0].attributes.topic, admin,
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
