// Ollama's model management with its official JavaScript client: pull (streamed progress) from Corral, which pulls
// from the registry it is configured with; then chat with the model (loaded on demand), copy it, delete both.
const { Ollama } = require('ollama');

async function main() {
  const ollama = new Ollama({ host: process.argv[2] });
  const statuses = [];
  for await (const p of await ollama.pull({ model: 'tiny', stream: true })) {
    statuses.push(p.status);
  }
  const tags = (await ollama.list()).models;
  const listed = tags.map((m) => m.name);
  const pulled = tags.find((m) => m.name === 'tiny');
  const digest = pulled.digest;
  const size = pulled.size;
  const family = pulled.details.family;
  const chat = await ollama.chat({ model: 'tiny', messages: [{ role: 'user', content: 'Once upon a time' }], stream: false,
    options: { temperature: 0, num_predict: 6 } });
  await ollama.copy({ source: 'tiny', destination: 'tiny-copy' });
  const copied = (await ollama.list()).models.map((m) => m.name);
  await ollama.delete({ model: 'tiny' });
  await ollama.delete({ model: 'tiny-copy' });
  const after = (await ollama.list()).models.map((m) => m.name);
  console.log(JSON.stringify({ first: statuses[0], last: statuses[statuses.length - 1], listed, digest, size, family, answered: chat.message.content.length > 0,
    copied, after }));
}

main().catch((e) => { console.error(e); process.exit(1); });
