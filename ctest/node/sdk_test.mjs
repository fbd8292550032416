// The official OpenAI Node SDK (pinned in package.json) against the real
// oaimock binary: every answer the mock scripts is one the SDK accepts, and
// every error reaches the caller as the SDK's own class with the status and
// request id the server journaled. Run by run.sh (ctest -L node).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import OpenAI from 'openai';

let server;
let base;

before(async () => {
  server = spawn(process.env.OAIMOCK_BIN, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of server.stdout) {
    out += chunk;
    if (out.includes('\n')) break;
  }
  const match = out.match(/^listening on (http:\/\/\S+)/);
  assert.ok(match, `oaimock said: ${out}`);
  base = match[1];
});

after(async () => {
  server.kill('SIGTERM');
  const [code] = await once(server, 'exit');
  assert.equal(code, 0);
});

async function script(tenant, responses) {
  const res = await fetch(`${base}/_xph/tenants/${tenant}`, { method: 'PUT', body: JSON.stringify(responses) });
  assert.equal(res.status, 200, await res.text());
}

async function journal(tenant) {
  return (await fetch(`${base}/_xph/journal?tenant=${encodeURIComponent(tenant)}`)).json();
}

function client(tenant, options = {}) {
  return new OpenAI({ apiKey: tenant, baseURL: `${base}/v1`, maxRetries: 0, timeout: 10_000, ...options });
}

const label = (key, k, i) => `xph:${key}:r${k}:c${i}`;
const user = (text) => [{ role: 'user', content: text }];
const weather = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];

test('chat: n choices carry their labels, request id as journaled', async () => {
  const c = client('chat');
  const r = await c.chat.completions.create({ model: 'm', n: 2, messages: user('hi [xph:c#0]') });
  assert.deepEqual(r.choices.map((ch) => ch.message.content), [label('c#0', 0, 0), label('c#0', 0, 1)]);
  assert.match(r.id, /^chatcmpl-[0-9a-f]+$/);
  const [entry] = await journal('chat');
  assert.equal(r._request_id, entry.request_id);
  assert.match(entry.headers['user-agent'], /^OpenAI\/JS /, 'the journal keeps the SDK\'s headers');
  assert.equal(entry.headers['x-stainless-retry-count'], '0');
});

test('chat streaming: chunks, and the SDK helper\'s final completion', async () => {
  const c = client('chat-stream');
  const stream = await c.chat.completions.create({ model: 'm', n: 2, stream: true, messages: user('[xph:s#0]') });
  const texts = {};
  for await (const chunk of stream)
    for (const ch of chunk.choices) texts[ch.index] = (texts[ch.index] ?? '') + (ch.delta.content ?? '');
  assert.deepEqual(texts, { 0: label('s#0', 0, 0), 1: label('s#0', 0, 1) });
  const final = await c.chat.completions.stream({ model: 'm', messages: user('[xph:s#0]') }).finalChatCompletion();
  assert.equal(final.choices[0].message.content, label('s#0', 1, 0));
  assert.equal(final.choices[0].finish_reason, 'stop');
});

test('chat: scripted text instead of the label', async () => {
  await script('text', { '*': '200="Hello, world"' });
  const r = await client('text').chat.completions.create({ model: 'm', messages: user('x') });
  assert.equal(r.choices[0].message.content, 'Hello, world');
});

test('completions: prompt key, n texts', async () => {
  const r = await client('cmpl').completions.create({ model: 'm', n: 2, prompt: 'say [xph:p#0]' });
  assert.deepEqual(r.choices.map((ch) => ch.text), [label('p#0', 0, 0), label('p#0', 0, 1)]);
});

test('embeddings: the SDK\'s default base64 and float both decode to the label', async () => {
  const c = client('emb');
  const decode = (v) => String.fromCodePoint(...v.map(Math.round));
  const b64 = await c.embeddings.create({ model: 'm', input: ['first', 'last [xph:e#0]'] });
  assert.deepEqual(b64.data.map((d) => decode(d.embedding)), [label('e#0', 0, 0), label('e#0', 0, 1)]);
  const floats = await c.embeddings.create({ model: 'm', input: '[xph:e#0]', encoding_format: 'float' });
  assert.equal(decode(floats.data[0].embedding), label('e#0', 1, 0));
  const [first, second] = await journal('emb');
  assert.equal(JSON.parse(first.body).encoding_format, 'base64', 'the SDK asked for base64 by default');
  assert.equal(first.n, 2);
  assert.equal(second.n, 1);
});

test('responses: output_text, and the response object', async () => {
  const r = await client('resp').responses.create({ model: 'm', input: 'hi [xph:r#0]' });
  assert.equal(r.output_text, label('r#0', 0, 0));
  assert.equal(r.object, 'response');
  assert.equal(r.status, 'completed');
  assert.match(r.id, /^resp_/);
});

test('responses streaming: the event sequence, and the SDK helper\'s final response', async () => {
  const c = client('resp-stream');
  const stream = await c.responses.create({ model: 'm', input: '[xph:r#1]', stream: true });
  const types = [];
  let text = '';
  for await (const event of stream) {
    assert.equal(event.sequence_number, types.length);
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
  }
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.equal(text, label('r#1', 0, 0));
  const final = await c.responses.stream({ model: 'm', input: '[xph:r#1]' }).finalResponse();
  assert.equal(final.output_text, label('r#1', 1, 0));
});

test('tool calls: chat, chat streamed through the SDK helper, responses', async () => {
  await script('tools', { '*': 'tool_call' });
  const c = client('tools');
  const r = await c.chat.completions.create({ model: 'm', messages: user('weather?'), tools: weather });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  assert.equal(r.choices[0].message.content, null);
  assert.equal(r.choices[0].message.tool_calls[0].function.name, 'get_weather');
  assert.equal(r.choices[0].message.tool_calls[0].function.arguments, '{}');
  const streamed = await c.chat.completions.stream({ model: 'm', messages: user('weather?'), tools: weather })
    .finalChatCompletion();
  const call = streamed.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.equal(call.function.arguments, '{}');
  assert.equal(streamed.choices[0].finish_reason, 'tool_calls');
  const tools = [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }];
  const resp = await c.responses.create({ model: 'm', input: 'x', tools });
  assert.equal(resp.output[0].type, 'function_call');
  assert.equal(resp.output[0].name, 'lookup');
  assert.equal(resp.output_text, '');
  const resp_streamed = await c.responses.stream({ model: 'm', input: 'x', tools }).finalResponse();
  assert.equal(resp_streamed.output[0].arguments, '{}');
});

test('mid-stream error: the SDK raises after the chunks it got', async () => {
  await script('midstream', { '*': 'stream_error:2' });
  const stream = await client('midstream').chat.completions.create({ model: 'm', stream: true, messages: user('[xph:m#0]') });
  let text = '';
  await assert.rejects(async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  }, (err) => err instanceof OpenAI.APIError && err.status === undefined && err.code === 'server_error');
  assert.equal(text, 'xph:m#0');
});

test('mid-stream error on the Responses API: events for the raw stream, a raise from the helper', async () => {
  await script('midstream-resp', { '*': 'stream_error:1' });
  const c = client('midstream-resp');
  // The raw stream yields OpenAI's `error` event and `response.failed`.
  const events = [];
  for await (const event of await c.responses.create({ model: 'm', input: 'x', stream: true })) events.push(event);
  assert.deepEqual(events.slice(-2).map((e) => e.type), ['error', 'response.failed']);
  assert.equal(events.at(-2).code, 'server_error');
  assert.equal(events.at(-1).response.status, 'failed');
  // The helper raises on the `error` event (with the event itself).
  await assert.rejects(c.responses.stream({ model: 'm', input: 'x' }).finalResponse(),
    (err) => err.type === 'error' && err.code === 'server_error');
});

test('mid-stream reset: the SDK raises', async () => {
  await script('reset', { '*': 'stream_reset:1' });
  const stream = await client('reset').chat.completions.create({ model: 'm', stream: true, messages: user('x') });
  await assert.rejects(async () => {
    for await (const chunk of stream) void chunk;
  });
});

test('each error status is the SDK\'s own class, with the journal\'s status and request id', async () => {
  const classes = [
    [400, OpenAI.BadRequestError], [401, OpenAI.AuthenticationError], [403, OpenAI.PermissionDeniedError],
    [404, OpenAI.NotFoundError], [409, OpenAI.ConflictError], [422, OpenAI.UnprocessableEntityError],
    [429, OpenAI.RateLimitError], [500, OpenAI.InternalServerError], [502, OpenAI.InternalServerError],
    [503, OpenAI.InternalServerError],
  ];
  const responses = {};
  for (const [status] of classes) responses[`e#${status}`] = `${status}:code_${status}`;
  await script('errors', responses);
  const c = client('errors');
  const requestIds = {};
  for (const [status, Class] of classes) {
    const key = `e#${status}`;
    await assert.rejects(c.chat.completions.create({ model: 'm', messages: user(`[xph:${key}]`) }), (err) => {
      assert.ok(err instanceof Class, `${status}: ${err.constructor.name}`);
      assert.equal(err.status, status);
      assert.equal(err.code, `code_${status}`);
      requestIds[key] = err.requestID;
      return true;
    });
  }
  const entries = await journal('errors');
  assert.equal(entries.length, classes.length, 'maxRetries 0: one request each');
  for (const e of entries) {
    assert.equal(e.status, Number(e.key.slice(2)));
    assert.equal(requestIds[e.key], e.request_id);
  }
});

test('the SDK\'s own retry of a 429 is two requests, the second marked as a retry', async () => {
  await script('retry', { '*': '429@0.01,200' });
  const r = await client('retry', { maxRetries: 2 }).chat.completions.create({ model: 'm', messages: user('[xph:q#0]') });
  assert.equal(r.choices[0].message.content, label('q#0', 1, 0));
  const entries = await journal('retry');
  assert.deepEqual(entries.map((e) => e.status), [429, 200]);
  assert.deepEqual(entries.map((e) => e.headers['x-stainless-retry-count']), ['0', '1']);
});
