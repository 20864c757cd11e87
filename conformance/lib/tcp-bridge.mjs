// Runs inside a task's network namespace: accepts connections on a Unix socket (file systems are
// not namespaced, so the host can reach it) and pipes each to host:port inside the namespace.
// Usage: node tcp-bridge.mjs <socketPath> <host> <port>
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';

const [socketPath, host, port] = process.argv.slice(2);
rmSync(socketPath, { force: true });
const server = createServer((client) => {
  const upstream = createConnection({ host, port: Number(port) });
  client.pipe(upstream).pipe(client);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(socketPath, () => process.stdout.write('bridge ready\n'));
process.on('SIGTERM', () => { server.close(); rmSync(socketPath, { force: true }); process.exit(0); });
