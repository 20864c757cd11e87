/**
 * Real-browser test of the tenant endpoint (issue 12 item 5), outside `npm test`:
 *   npm run test:browser        (root, bash conformance/install.sh, haproxy and chromium from Debian)
 *
 * The local cloud with ingress and the real OpenClaw gateway as ECS's task runtime provisions two
 * tenants (the activation handshake goes through the local HAProxy); HAProxy is configured from the
 * fake ALB's listener rules (test/local-cloud/ingress/real-gateway-ingress.ts). Headless Chromium
 * then opens each Control UI at http://<tenant>.localhost:<port>/#token=<token> (the Control UI's
 * token handoff, docs/web/urls.md of the pinned release) and records the gateway's WebSocket frames
 * and close reason:
 *  - A's token at A's host: the WebSocket opens through HAProxy and the gateway authenticates the
 *    token: it answers the connect with hello-ok, or (a new browser device over a proxy) closes
 *    with "pairing required", which OpenClaw checks only after gateway auth succeeded;
 *  - B's token at A's host, and A's token at B's host: "unauthorized: gateway token mismatch";
 *  - an unknown host: 404 from HAProxy, no gateway.
 * Exits 1 with what did not hold.
 */
import { chromium, type Browser } from 'playwright-core';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { names as resourceNames } from '../../../functions/domain/naming';
import { LOCAL_CELL } from '../../local-cloud/env';
import { LOCAL_INGRESS_NODE_ADDRESS, startLocalCloud, type LocalCloud } from '../../local-cloud/local-cloud';
import { requireHaproxy } from '../../local-cloud/ingress/local-ingress';
import { freePort, RealGatewayIngress } from '../../local-cloud/ingress/real-gateway-ingress';
import { OpenClawTaskRuntime, realGatewayPrerequisites, realGatewayRuntimeOptions } from '../../local-cloud/openclaw-runtime';
import { CHROMIUM, CHROMIUM_ARGS } from './control-ui-page';
import { teardownRealGatewayRun } from './harness';

const TENANTS = ['browser-a', 'browser-b'] as const;

interface Attempt {
  readonly opened: boolean;
  readonly frames: string[];
  readonly closed: string[];
  readonly status: number | undefined;
}

/** Opens `url` in a fresh browser context and records the page's WebSocket traffic until `settled` or 60 s. */
async function open(browser: Browser, url: string): Promise<Attempt> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const frames: string[] = [];
  const closed: string[] = [];
  let opened = false;
  page.on('websocket', (ws) => {
    opened = true;
    ws.on('framereceived', (f) => frames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8')));
    ws.on('close', () => closed.push('closed'));
    ws.on('socketerror', (e) => closed.push(`error: ${e}`));
  });
  // The UI reports a close reason on the page too ("disconnected (1008): ...").
  const response = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 }).catch(() => null);
  const until = Date.now() + 60_000;
  while (Date.now() < until && !settled(frames)) await page.waitForTimeout(500);
  const text = await page.locator('body').innerText({ timeout: 5000 }).catch(() => '');
  if (/disconnected \(\d+\)[^\n]*/.test(text)) closed.push(/disconnected \(\d+\)[^\n]*/.exec(text)![0]);
  await context.close();
  return { opened, frames, closed, status: response?.status() };
}

const authenticated = (frames: string[]) => frames.some((f) => f.includes('hello-ok') || /pairing required/i.test(f));
const refused = (frames: string[]) => frames.some((f) => /unauthorized: gateway token mismatch/.test(f));
const settled = (frames: string[]) => authenticated(frames) || frames.some((f) => /unauthorized|origin not allowed/i.test(f));

async function main(): Promise<void> {
  const missing = realGatewayPrerequisites();
  if (missing.length > 0) throw new Error(`cannot run here:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
  console.log(`browser test: ${requireHaproxy()}, chromium ${CHROMIUM}`);
  const plan = LOCAL_CELL.plans.find((p) => p.bedrockModels.length === 0 && p.modelProviders.length > 0);
  if (!plan) throw new Error('no local plan runs offline (test/local-cloud/env.ts)');
  const efsRoot = mkdtempSync('/var/tmp/octw-browser-efs-');
  mkdirSync(join(efsRoot, 'tenants'));
  const runtime = new OpenClawTaskRuntime({ efsRoot, ingressSourceAddress: LOCAL_INGRESS_NODE_ADDRESS });
  const port = await freePort();
  let cloud: LocalCloud | undefined;
  let ingress: RealGatewayIngress | undefined;
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    cloud = await startLocalCloud({
      taskRuntime: { runtime, options: realGatewayRuntimeOptions() },
      env: { GATEWAY_WAIT_SECONDS: '600', TENANTS_MOUNT_PATH: join(efsRoot, 'tenants') },
      ingress: { shards: 1, probeOrigin: `http://127.0.0.1:${port}` },
    });
    ingress = new RealGatewayIngress(cloud.fake, runtime, { port, domain: cloud.ingress!.settings.domain, listenerArns: cloud.ingress!.settings.shards.map((s) => s.listenerArn) });
    await ingress.start();
    const started = Date.now();
    for (const tenantId of TENANTS) await cloud.signup({ tenantId, displayName: tenantId, ownerEmail: `ops@${tenantId}.example`, plan: plan.id });
    await cloud.settle();
    const records = await Promise.all(TENANTS.map((t) => cloud!.store.require(t)));
    for (const r of records) if (r.status !== 'ACTIVE' || !r.ingress) throw new Error(`${r.tenantId} is ${r.status}${r.lastError ? `: ${r.lastError.message}` : ''}`);
    console.log(`2 tenants ACTIVE with real gateways behind HAProxy in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const [a, b] = records as [(typeof records)[number], (typeof records)[number]];
    const token = (tenantId: string) => cloud!.fake.secret(resourceNames.secret({ cell: LOCAL_CELL.cellId, tenantId }))?.secretString ?? '';
    const urlA = ingress.localUrl(a.ingress!.hostname);
    const urlB = ingress.localUrl(b.ingress!.hostname);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const cases: { name: string; url: string; expect: 'in' | 'refused' }[] = [
      { name: "A's token at A's host", url: `${urlA}/#token=${encodeURIComponent(token(a.tenantId))}`, expect: 'in' },
      { name: "B's token at A's host", url: `${urlA}/#token=${encodeURIComponent(token(b.tenantId))}`, expect: 'refused' },
      { name: "A's token at B's host", url: `${urlB}/#token=${encodeURIComponent(token(a.tenantId))}`, expect: 'refused' },
    ];
    for (const c of cases) {
      const r = await open(browser, c.url);
      const got = authenticated(r.frames) ? 'in' : refused(r.frames) ? 'refused' : 'neither';
      const last = [...r.frames].reverse().find((f) => /"ok":false|hello-ok|error/.test(f)) ?? r.frames.at(-1) ?? '(no frame)';
      console.log(`  ${c.name}: page ${r.status ?? '-'}, WebSocket ${r.opened ? 'opened' : 'NOT opened'}, ${got}: ${last.slice(0, 160)}${r.closed.length ? `; ${r.closed.join(', ')}` : ''}`);
      if (!r.opened) problems.push(`${c.name}: no WebSocket was opened`);
      if (got !== c.expect) problems.push(`${c.name}: expected ${c.expect}, got ${got}`);
    }
    const context = await browser.newContext();
    const unknown = await (await context.newPage()).goto(`http://nobody.localhost:${port}/`);
    console.log(`  unknown host: ${unknown?.status() ?? '-'}`);
    if (unknown?.status() !== 404) problems.push(`an unknown host answered ${unknown?.status() ?? 'nothing'}, not 404`);
    await context.close();
  } finally {
    await teardownRealGatewayRun({ browser, cloud, ingress, runtime, efsRoot, problems });
  }
  if (problems.length > 0) {
    console.error(`\nBROWSER TEST FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exitCode = 1;
  } else console.log('\nbrowser test passed');
}

main().catch((err: unknown) => {
  console.error(`browser test failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
