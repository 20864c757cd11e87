import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { sha512Crypt } from '../../functions/egress/sha512-crypt';
import { connectVia, startSquid, startTlsStub, sleep } from './squid-harness';
async function main() {
  const stub = await startTlsStub(mkdtempSync(`${tmpdir()}/octw-stub-`), ['discord.com']);
  const squid = await startSquid([{ tenantId: 'tenant-bravo', credentialHash: sha512Crypt('pw', 'saltb'), rules: [{ host: 'discord.com', ports: [stub.port], origin: ['tenant'] }] }], { hosts: { 'discord.com': '127.0.0.1' } });
  await sleep(500);
  console.log(await connectVia(squid.port, { user: 'tenant-bravo', password: 'pw', target: `discord.com:${stub.port}` }));
  await sleep(300);
  console.log(readFileSync(squid.accessLog, 'utf8'));
  console.log(readFileSync(`${squid.dir}/cache.log`, 'utf8').split('\n').slice(-30).join('\n'));
  console.log(readFileSync(squid.policyFile, 'utf8'));
  await squid.stop(); await stub.close();
}
void main();
