// Runs inside a task's network namespace: listens on the namespace's loopback at <port> and pipes
// each connection to a Unix socket the host serves (file systems are not namespaced). The task's
// one route out, as the tenant security group allows egress only to the egress proxy's load balancer.
// Usage: node unix-forward.mjs <port> <socketPath>
import { createConnection, createServer } from 'node:net';

const [port, socketPath] = process.argv.slice(2);
const server = createServer((client) => {
  const upstream = createConnection({ path: socketPath });
  client.pipe(upstream).pipe(client);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('forward ready\n'));
process.on('SIGTERM', () => { server.close(); process.exit(0); });
