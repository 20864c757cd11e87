// Runs inside a task's network namespace: accepts connections on a Unix socket (file systems are
// not namespaced, so the host can reach it) and pipes each to host:port inside the namespace.
// Usage: node tcp-bridge.mjs <socketPath> <host> <port> [<localAddress>]
// localAddress: the source address the gateway sees (the load balancer node's, with ingress).
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';

const [socketPath, host, port, localAddress] = process.argv.slice(2);
rmSync(socketPath, { force: true });
const server = createServer((client) => {
  const upstream = createConnection({ host, port: Number(port), ...(localAddress ? { localAddress } : {}) });
  client.pipe(upstream).pipe(client);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(socketPath, () => process.stdout.write('bridge ready\n'));
process.on('SIGTERM', () => { server.close(); rmSync(socketPath, { force: true }); process.exit(0); });
