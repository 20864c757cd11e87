// The task namespace's DNS resolver: records every query (name and type, one JSON line each) and
// answers REFUSED, so a lookup fails fast and nothing is resolved. Counted as an outbound attempt.
// Usage: node dns-recorder.mjs <address> <logFile>
import { appendFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';

const [address, logFile] = process.argv.slice(2);
const TYPES = { 1: 'A', 28: 'AAAA', 5: 'CNAME', 12: 'PTR', 15: 'MX', 16: 'TXT', 33: 'SRV', 65: 'HTTPS' };

function parseQuestion(msg) {
  const labels = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i];
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += len + 1;
  }
  const type = msg.readUInt16BE(i + 1);
  return { name: labels.join('.'), type: TYPES[type] ?? String(type) };
}

const sock = createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  if (msg.length < 17) return;
  let q = { name: '?', type: '?' };
  try { q = parseQuestion(msg); } catch { /* malformed */ }
  appendFileSync(logFile, `${JSON.stringify({ at: new Date().toISOString(), ...q })}\n`);
  const reply = Buffer.from(msg);
  reply[2] = 0x80 | (msg[2] & 0x79); // QR=1, keep opcode and RD
  reply[3] = 0x05; // RCODE=REFUSED
  sock.send(reply, rinfo.port, rinfo.address);
});
sock.bind(53, address, () => process.stdout.write(`dns recorder listening on ${address}:53\n`));
process.on('SIGTERM', () => process.exit(0));
