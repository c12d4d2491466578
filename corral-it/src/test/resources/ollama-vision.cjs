// A vision model with Ollama's official JavaScript client: pull it (the registry's manifest has a projector layer beside
// the model's), show its capabilities, then chat with two images (base64, as Ollama's API takes them) and without one.
const { Ollama } = require('ollama');
const fs = require('fs');

async function main() {
  const ollama = new Ollama({ host: process.argv[2] });
  await ollama.pull({ model: 'eyes', stream: false });
  const shown = await ollama.show({ model: 'eyes' });
  const ask = async (images) => (await ollama.chat({ model: 'eyes', stream: false, options: { temperature: 0, num_predict: 12 },
    messages: [{ role: 'user', content: 'Tell me a story.', ...(images ? { images } : {}) }] }));
  const a = await ask([fs.readFileSync(process.argv[3]).toString('base64')]);
  const b = await ask([fs.readFileSync(process.argv[4]).toString('base64')]);
  const none = await ask(null);
  console.log(JSON.stringify({ capabilities: shown.capabilities, a: a.message.content, b: b.message.content,
    none: none.message.content, promptA: a.prompt_eval_count, promptNone: none.prompt_eval_count }));
}

main().catch((e) => { console.error(e); process.exit(1); });
