// A complete xph SUT in Node.js 20: built-in fetch and child_process, no packages.
//   xph run scenarios/ --sut-cmd "/usr/bin/node $PWD/docs/examples/minimal.js" --sut-name minimal
'use strict';
const fs = require('node:fs');
const { fork } = require('node:child_process');

// [path, body] of one call asking for n outputs.
function requestFor(endpoint, model, text, n) {
  if (endpoint === 'chat') return ['/chat/completions', { model, n, messages: [{ role: 'user', content: text }] }];
  if (endpoint === 'completions') return ['/completions', { model, n, prompt: text }];
  if (endpoint === 'embeddings') return ['/embeddings', { model, input: Array(n).fill(text), encoding_format: 'float' }];
  return ['/responses', { model, input: text }]; // the Responses API has no n: one output per request
}

// Throws on a body of the wrong shape: the caller reports that as kind "decode".
function outputsOf(endpoint, body) {
  if (endpoint === 'chat') return body.choices.map((c) => c.message.content);
  if (endpoint === 'completions') return body.choices.map((c) => c.text);
  if (endpoint === 'embeddings') // oaimock encodes each label as its code points
    return body.data.map((d) => String.fromCodePoint(...d.embedding.filter((v) => v > 0).map(Math.trunc)));
  return body.output.map((item) => {
    if (item.type === 'function_call') return null; // a tool call carries no text
    if (item.type !== 'message') throw new TypeError(`output item of type ${item.type}`);
    return item.content.filter((p) => p.type === 'output_text').map((p) => p.text).join('');
  });
}

const str = (v) => (typeof v === 'string' ? v : null); // the result parser takes strings or null only
const envelope = (kind, exception, fields) =>
  ({ kind, status: null, type: null, code: null, message: null, request_id: null, exception, ...fields });

// One HTTP request. Resolves {outputs} or {error, retryAfterS}; never rejects.
async function callOnce(spec, text, n) {
  const [path, body] = requestFor(spec.endpoint, spec.model, text, n);
  let res, raw;
  try {
    res = await fetch(spec.base_url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${spec.api_key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(Math.ceil(spec.request_timeout_s * 1000)),
    });
    raw = await res.text(); // under the same signal: request_timeout_s bounds the whole answer
  } catch (e) {
    // A reset, a drop and a body cut short (truncate) all land here as "connection".
    const kind = e.name === 'TimeoutError' ? 'timeout' : 'connection';
    return { error: envelope(kind, e.name, { message: String(e.cause ?? e.message) }) };
  }
  const request_id = res.headers.get('x-request-id');
  if (res.status >= 400) {
    let e = {};
    try { e = JSON.parse(raw).error ?? {}; } catch { /* keep the status even without a body */ }
    const ms = res.headers.get('retry-after-ms'), s = res.headers.get('retry-after');
    return {
      error: envelope('http', 'APIStatusError',
        { status: res.status, type: str(e.type), code: str(e.code), message: str(e.message), request_id }),
      retryAfterS: ms !== null ? Number(ms) / 1000 : s !== null ? Number(s) : null, // -ms is exact, so it wins
    };
  }
  try {
    return { outputs: outputsOf(spec.endpoint, JSON.parse(raw)) };
  } catch (e) {
    return { error: envelope('decode', e.name, { status: res.status, message: e.message, request_id }) };
  }
}

// Node's timers count from the event loop's cached clock, which lags on a busy
// machine, so a bare setTimeout can wake early: wait until the real clock says so.
async function sleepS(s) {
  const until = performance.now() + s * 1000;
  for (let left = s * 1000; left > 0; left = until - performance.now())
    await new Promise((wake) => setTimeout(wake, Math.ceil(left)));
}

// One generation call under the spec's retry policy; throws the last error envelope.
async function generate(spec, text, n) {
  const { max_tries, retry_on, honor_retry_after, max_delay_s } = spec.retry;
  for (let tries = 1; ; tries++) {
    const r = await callOnce(spec, text, n);
    if (!r.error) return r.outputs;
    const retryable = retry_on.includes(r.error.kind) || (r.error.kind === 'http' && retry_on.includes(r.error.status));
    if (!retryable || (max_tries !== null && tries >= max_tries)) throw r.error;
    let delay = Math.min(max_delay_s, 0.005 * 2 ** (tries - 1));
    if (honor_retry_after && r.retryAfterS !== null) delay = Math.max(delay, r.retryAfterS);
    await sleepS(delay);
  }
}

async function attempt(spec, probe, prompt) {
  const [calls, n] = spec.multi_generation === 'loop' ? [spec.generations, 1] : [1, spec.generations];
  const outcome = { probe, id: prompt.id, pid: process.pid }; // pid: the process that made the calls
  try {
    const outputs = [];
    for (let i = 0; i < calls; i++) outputs.push(...(await generate(spec, prompt.text, n)));
    return { ...outcome, outcome: 'ok', outputs };
  } catch (error) {
    if (!error || !error.kind) throw error; // a bug of ours, not the server's answer
    return { ...outcome, outcome: 'error', error };
  }
}

// A pooled probe's attempts run in child processes: the boundary xph judges.
// Only plain data crosses it; what cannot cross is reported as a failure.
function inWorker(spec, probe, prompts, failures) {
  return new Promise((done) => {
    const child = fork(__filename, ['--worker']);
    const fail = (stage, e) =>
      failures.push({ stage, probe, message: `${e.name}: ${e.message}`, traceback: e.stack ?? '' });
    let outcomes = [];
    child.on('message', (m) => (m.failure ? fail('result', m.failure) : (outcomes = m.outcomes)));
    child.on('exit', (code, signal) => {
      if (code !== 0) fail('worker', { name: 'WorkerExit', message: `worker ${child.pid} ended: ${signal ?? code}` });
      done(outcomes);
    });
    try { child.send({ spec, probe, prompts }); } catch (e) { fail('dispatch', e); child.disconnect(); }
  });
}

async function main() {
  await loaded;
  const spec = JSON.parse(fs.readFileSync(process.env.XPH_SPEC, 'utf8'));
  const attempts = [], failures = [];
  for (const { name, prompts } of spec.probes) {
    if (spec.parallel_attempts > 1 && prompts.length > 1) {
      const workers = Math.min(spec.parallel_attempts, prompts.length);
      const shares = Array.from({ length: workers }, (_, w) => prompts.filter((_, i) => i % workers === w));
      const done = await Promise.all(shares.map((share) => inWorker(spec, name, share, failures)));
      attempts.push(...done.flat());
    } else {
      for (const prompt of prompts) attempts.push(await attempt(spec, name, prompt));
    }
  }
  // Whole or not at all: a SUT killed while writing leaves only the temp file.
  const tmp = `${process.env.XPH_RESULT}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ xph: 1, sut: 'minimal-node 1.0', pid: process.pid, attempts, failures }));
  fs.renameSync(tmp, process.env.XPH_RESULT);
}

// The first fetch loads its HTTP client (~0.1-0.5 s): do it before any timed request.
const loaded = fetch('data:,').then((r) => r.text());

if (process.argv[2] === '--worker') {
  process.once('message', async ({ spec, probe, prompts }) => {
    await loaded;
    const outcomes = [];
    for (const prompt of prompts) outcomes.push(await attempt(spec, probe, prompt));
    const bye = () => process.disconnect(); // disconnected, the worker exits 0
    try { process.send({ outcomes }, bye); } // what cannot cross is said in plain data instead:
    catch (e) { process.send({ failure: { name: e.name, message: e.message, stack: e.stack } }, bye); }
  });
} else {
  main().catch((e) => { console.error(e); process.exitCode = 1; });
}
