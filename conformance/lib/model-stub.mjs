// A stub of the OpenAI chat-completions API (POST /v1/chat/completions, GET /v1/models), for a
// plan's custom model provider in the conformance suite and the local cloud. Listens on loopback
// inside the task's network namespace; appends one JSON line per request to the log file.
// Usage: node model-stub.mjs <port | address:port | unix socket path> [logFile] [certFile keyFile]
// With certFile and keyFile it serves HTTPS (a provider on the internet, reached through the egress
// proxy: conformance/lib/egress-path.ts).
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

const [port, logFile, certFile, keyFile] = process.argv.slice(2);
const createServer = (handler) =>
  certFile && keyFile ? createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handler) : createHttpServer(handler);
const MODEL = 'octw-stub-1';
const reply = 'stub reply from the OCTW model stub';

function log(entry) {
  if (logFile) appendFileSync(logFile, `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
}

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    // The key itself is never logged: its SHA-256, so a test can tell whose key arrived.
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    log({ port, method: req.method, url: req.url, authorization: req.headers.authorization ? 'present' : 'absent', ...(bearer ? { keySha256: createHash('sha256').update(bearer).digest('hex') } : {}), bytes: body.length, ...(req.socket.servername ? { sni: req.socket.servername } : {}) });
    const json = (status, obj) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
    if (req.method === 'GET' && req.url?.startsWith('/v1/models')) return json(200, { object: 'list', data: [{ id: MODEL, object: 'model', owned_by: 'octw' }] });
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) return json(404, { error: { message: 'not found' } });
    let parsed = {};
    try { parsed = JSON.parse(body); } catch { return json(400, { error: { message: 'invalid JSON' } }); }
    const created = Math.floor(Date.now() / 1000);
    if (parsed.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta, finish) => `data: ${JSON.stringify({ id: 'chatcmpl-stub', object: 'chat.completion.chunk', created, model: parsed.model ?? MODEL, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: reply }, null));
      res.write(chunk({}, 'stop'));
      res.write(`data: ${JSON.stringify({ id: 'chatcmpl-stub', object: 'chat.completion.chunk', created, model: parsed.model ?? MODEL, choices: [], usage: { prompt_tokens: 1, completion_tokens: 7, total_tokens: 8 } })}\n\n`);
      return res.end('data: [DONE]\n\n');
    }
    return json(200, {
      id: 'chatcmpl-stub', object: 'chat.completion', created, model: parsed.model ?? MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 7, total_tokens: 8 },
    });
  });
});
// A port: loopback TCP (inside the task's namespace); a path: a Unix socket (on the host, reached
// only through an egress bridge, see egress-bridge.mjs).
const hostPort = /^([0-9.]+):(\d+)$/.exec(port);
if (/^\d+$/.test(port)) server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`model stub listening on 127.0.0.1:${port}\n`));
else if (hostPort) server.listen(Number(hostPort[2]), hostPort[1], () => process.stdout.write(`model stub listening on ${port}\n`));
else server.listen(port, () => process.stdout.write(`model stub listening on ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
