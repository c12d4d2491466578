// Llama Stack 0.2.x's client-side agent flow with the official TypeScript client (llama-stack-client 0.2.23):
// an agent with a client tool, a session, a turn that awaits the tool, its resumption streamed. Prints what it saw.
const { LlamaStackClient } = require('llama-stack-client');

async function main() {
  const client = new LlamaStackClient({ baseURL: process.argv[2] });
  const { agent_id } = await client.agents.create({
    agent_config: {
      model: 'm',
      instructions: 'You are a weather assistant.',
      client_tools: [{ name: 'get_weather', description: 'The weather in a city',
        parameters: [{ name: 'city', parameter_type: 'string', description: 'the city', required: true }] }],
      enable_session_persistence: false,
    },
  });
  const { session_id } = await client.agents.session.create(agent_id, { session_name: 'trip' });
  const turn = await client.agents.turn.create(agent_id, session_id, {
    messages: [{ role: 'user', content: 'Weather in Paris?' }], stream: false });
  const call = turn.output_message.tool_calls[0];
  const stream = await client.agents.turn.resume(agent_id, session_id, turn.turn_id, {
    tool_responses: [{ call_id: call.call_id, tool_name: 'get_weather', content: 'sunny' }], stream: true });
  const types = [];
  let answer = null;
  for await (const chunk of stream) {
    const payload = chunk.event.payload;
    types.push(payload.event_type);
    if (payload.event_type === 'turn_complete') {
      answer = payload.turn.output_message.content;
    }
  }
  const sessions = await client.agents.session.list(agent_id);
  const got = await client.agents.turn.retrieve(agent_id, session_id, turn.turn_id);
  console.log(JSON.stringify({ tool: call.tool_name, city: call.arguments.city, types, answer,
    sessions: sessions.data.length, steps: got.steps.map((s) => s.step_type) }));
}

main().catch((e) => { console.error(e); process.exit(1); });
