// Ollama's own API driven by its official JavaScript client (npm ollama): version, tags (with a model's details), show
// (details, model_info; a missing model's error as the client reads it), chat (whole and streamed), generate, embed.
// Prints what it saw as one JSON line.
const { Ollama } = require('ollama');

async function main() {
  const ollama = new Ollama({ host: process.argv[2] });
  const model = process.argv[3];
  const version = await ollama.version();
  const tags = await ollama.list();
  const show = await ollama.show({ model });
  const whole = await ollama.chat({ model, messages: [{ role: 'user', content: 'Hi' }], stream: false,
    options: { temperature: 0, num_predict: 8 } });
  let streamed = '';
  let last = null;
  for await (const part of await ollama.chat({ model, messages: [{ role: 'user', content: 'Hi' }], stream: true,
    options: { temperature: 0, num_predict: 8 } })) {
    streamed += part.message.content;
    last = part;
  }
  const gen = await ollama.generate({ model, prompt: 'Once upon a time', stream: false, options: { temperature: 0, num_predict: 8 } });
  const emb = await ollama.embed({ model, input: ['a cat', 'a dog'] });
  const listed = tags.models.find((m) => m.name === model);
  let missing = null;
  try {
    await ollama.show({ model: 'no-such-model' });
  } catch (e) {
    missing = { message: e.error, status: e.status_code };
  }
  console.log(JSON.stringify({ version: version.version, models: tags.models.map((m) => m.name), capabilities: show.capabilities,
    listedDetails: listed.details, listedModified: listed.modified_at, details: show.details, modelInfo: show.model_info, missing,
    whole: whole.message.content, wholeDone: whole.done, streamed, lastDone: last.done, reason: last.done_reason,
    evalCount: last.eval_count, generated: gen.response, embeddings: emb.embeddings.length, dims: emb.embeddings[0].length }));
}

main().catch((e) => { console.error(e); process.exit(1); });
