// Prototype for the integration round's browser test (issue 12 item 5), run by hand:
//   npx tsx test/ingress/browser/prototype.mjs   (needs playwright-core in node_modules, chromium and haproxy from Debian)
// Verified 2026-12-01 with playwright-core 1.65.1 (private install), chromium 156 (Debian 12), haproxy 2.6.12:
//   acme: 200 ws: hello from A origin-ok / bravo (no route): 404.
// Root needs --no-sandbox; *.localhost is mapped to loopback by a host-resolver rule, never by DNS.
// Prototype: headless Chromium (Debian) through the local HAProxy ingress to a stand-in gateway page that opens a WebSocket.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { world, DOMAIN } from '../support.ts';
import { renderHaproxyConfig, routesFromFake } from '../../local-cloud/ingress/haproxy-config.ts';
import { LocalIngress } from '../../local-cloud/ingress/local-ingress.ts';

function gateway(name) {
  const s = createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><title>${name}</title><div id=o>loading</div><script>
      const ws = new WebSocket('ws://' + location.host + '/');
      ws.onmessage = (e) => { document.getElementById('o').textContent = 'ws: ' + e.data + ' origin-ok'; };
      ws.onerror = () => { document.getElementById('o').textContent = 'ws error'; };
    </script>`);
  });
  s.on('upgrade', (req, socket) => {
    const ok = req.headers.origin === `http://${req.headers.host}`;
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    if (!ok) { socket.end('HTTP/1.1 403 Forbidden\r\n\r\n'); return; }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const p = Buffer.from(`hello from ${name}`);
    socket.write(Buffer.concat([Buffer.from([0x81, p.length]), p]));
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

async function main() {
  const a = await gateway('A');
  const w = world(1);
  const p = await w.routes.ensureRoute({ tenantId: 'acme', mode: 'live' });
  await w.fake.call('ELBv2', 'RegisterTargets', { TargetGroupArn: p.targetGroupArn, Targets: [{ Id: '127.0.0.1', Port: a.address().port }] });
  const ingress = new LocalIngress(18080);
  await ingress.start(renderHaproxyConfig({ port: 18080, routes: routesFromFake(w.fake.elb, w.settings.shards[0].listenerArn, (h) => h.replace(`.${DOMAIN}`, '.localhost')) }));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--host-resolver-rules=MAP *.localhost 127.0.0.1'] });
  try {
    const page = await browser.newPage();
    const r = await page.goto('http://acme.localhost:18080/');
    await page.waitForFunction(() => document.getElementById('o')?.textContent !== 'loading', undefined, { timeout: 10_000 });
    console.log('acme:', r?.status(), await page.textContent('#o'));
    const r2 = await page.goto('http://bravo.localhost:18080/');
    console.log('bravo (no route):', r2?.status(), (await page.content()).slice(0, 80));
  } finally {
    await browser.close();
    await ingress.stop();
    a.close();
  }
}
void main();
