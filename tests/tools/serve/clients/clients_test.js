// deltallm serve driven by the official client libraries (openai, @anthropic-ai/sdk, pinned by
// package-lock.json): every call goes through the libraries' own request building and response
// parsing, streamed and not, and the greedy text agrees between the two APIs and the two modes.
//
// usage: node clients_test.js BASE_URL API_KEY   (prints "ok N checks" and exits 0, or throws)
'use strict';
const assert = require('node:assert/strict');
const OpenAI = require('openai').default;
const Anthropic = require('@anthropic-ai/sdk').default;

const [base, key] = process.argv.slice(2);
let checks = 0;
const check = (cond, what) => { assert.ok(cond, what); checks++; };
const eq = (a, b, what) => { assert.deepEqual(a, b, what); checks++; };

const tools = [{
  name: 'get_weather', description: 'the weather in a city',
  schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
}];

async function openai() {
  const c = new OpenAI({ baseURL: base + '/v1', apiKey: key, maxRetries: 0 });
  const messages = [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'the people of the world' }];
  const r = await c.chat.completions.create({ model: 'tiny', messages, max_tokens: 12, temperature: 0 });
  eq(r.object, 'chat.completion', 'object');
  eq(r.choices[0].message.role, 'assistant', 'role');
  check(typeof r.choices[0].message.content === 'string', 'content');
  check(['stop', 'length'].includes(r.choices[0].finish_reason), 'finish_reason');
  check(r.usage.prompt_tokens > 0 && r.usage.completion_tokens <= 12, 'usage');
  // streamed: the deltas concatenate to the same text
  const stream = await c.chat.completions.create({ model: 'tiny', messages, max_tokens: 12, temperature: 0, stream: true,
                                                   stream_options: { include_usage: true } });
  let text = '', usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length) text += chunk.choices[0].delta.content || '';
    if (chunk.usage) usage = chunk.usage;
  }
  eq(text, r.choices[0].message.content, 'streamed text');
  eq(usage.completion_tokens, r.usage.completion_tokens, 'streamed usage');
  // a tool conversation: the call (arguments as the JSON string the library sends) and its result
  const t = await c.chat.completions.create({
    model: 'tiny', max_tokens: 8, temperature: 0,
    tools: tools.map((x) => ({ type: 'function', function: { name: x.name, description: x.description, parameters: x.schema } })),
    messages: [
      { role: 'user', content: 'weather in Oslo?' },
      { role: 'assistant', content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21 C' },
    ],
  });
  check(['stop', 'length', 'tool_calls'].includes(t.choices[0].finish_reason), 'tool turn finish_reason');
  // errors come back as the library's typed errors
  await assert.rejects(c.chat.completions.create({ model: 'tiny', messages: [] }),
                       (e) => e instanceof OpenAI.BadRequestError && /messages/.test(e.message));
  checks++;
  return r.choices[0].message.content;
}

async function anthropic(openaiText) {
  const c = new Anthropic({ baseURL: base, apiKey: key, maxRetries: 0 });
  const body = { model: 'tiny', max_tokens: 12, temperature: 0, system: 'be brief',
                 messages: [{ role: 'user', content: 'the people of the world' }] };
  const m = await c.messages.create(body);
  eq(m.type, 'message', 'type');
  eq(m.role, 'assistant', 'role');
  check(['end_turn', 'max_tokens'].includes(m.stop_reason), 'stop_reason');
  const text = m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
  eq(text, openaiText, 'same greedy text as the OpenAI endpoint');
  // streamed, through the library's event accumulator
  const s = c.messages.stream(body);
  let streamed = '';
  s.on('text', (t) => { streamed += t; });
  const final = await s.finalMessage();
  eq(streamed, text, 'streamed text');
  eq(final.content.filter((b) => b.type === 'text').map((b) => b.text).join(''), text, 'final message');
  eq(final.stop_reason, m.stop_reason, 'streamed stop_reason');
  eq(final.usage.output_tokens, m.usage.output_tokens, 'streamed usage');
  const n = await c.messages.countTokens({ model: 'tiny', system: 'be brief', messages: body.messages });
  eq(n.input_tokens, m.usage.input_tokens, 'count_tokens');
  // a tool conversation: tool_use and tool_result blocks
  const t = await c.messages.create({
    model: 'tiny', max_tokens: 8, temperature: 0,
    tools: tools.map((x) => ({ name: x.name, description: x.description, input_schema: x.schema })),
    tool_choice: { type: 'auto' },
    messages: [
      { role: 'user', content: 'weather in Oslo?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny, 21 C' }] },
    ],
  });
  check(['end_turn', 'max_tokens', 'tool_use'].includes(t.stop_reason), 'tool turn stop_reason');
  await assert.rejects(c.messages.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }] }),
                       (e) => e instanceof Anthropic.BadRequestError && /max_tokens/.test(e.message));
  checks++;
}

(async () => {
  const text = await openai();
  await anthropic(text);
  console.log(`ok ${checks} checks`);
})().catch((e) => { console.error(e); process.exit(1); });
