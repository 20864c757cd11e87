// Runs inside a task's network namespace: listens on 127.0.0.1:<port> and pipes each connection to
// a Unix socket on the host (file systems are not namespaced). The conformance harness starts one
// per endpoint the tenant's egress policy allows (effectiveHostRules), standing in for the egress
// path: an endpoint its policy lacks has no bridge, and a connection to it is refused.
// Usage: node egress-bridge.mjs <port> <socketPath>
import { createConnection, createServer } from 'node:net';

const [port, socketPath] = process.argv.slice(2);
const server = createServer((client) => {
  const upstream = createConnection({ path: socketPath });
  client.pipe(upstream).pipe(client);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('egress bridge listening\n'));
process.on('SIGTERM', () => { server.close(); process.exit(0); });
