/**
 * DM pairing approval over a tenant's endpoint with the real gateway (issue 12 item 6), outside
 * `npm test`:   npm run test:pairing   (root; conformance installs, haproxy and squid from Debian)
 *
 * The local cloud with ingress provisions tenants A and B with the real OpenClaw gateway behind the
 * local HAProxy (as `npm run test:browser`), then gives A a Telegram channel (dmPolicy "pairing",
 * the platform's hardening) through the update workflow. A's gateway reaches `api.telegram.org`
 * through the cell's real Squid (its policy read from the table the Egress function wrote), where a
 * stub of the Bot API answers (conformance/lib/telegram-bot-stub.ts). Then:
 *  - an unknown Telegram user writes to A's bot: the gateway answers with a pairing code and does
 *    not process the message (no model call);
 *  - with the CLI in-process (`octw tenants pairing`) through HAProxy at
 *    http://<tenant>.localhost:<port> (Host-routed like the ALB): list shows the request (channel,
 *    sender; never the code), approve with a wrong request id is refused (exit 3), B's token at A's
 *    endpoint is refused by A's gateway, B's endpoint lists none of A's requests; approve with the
 *    listed id succeeds, list no longer shows it, a second approve is refused;
 *  - the sender is admitted: in A's allow store, and its next message is answered in the chat with
 *    the model's reply (the model stub saw the turn).
 * Exits 1 with what did not hold.
 */
import dns from 'node:dns';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomInt } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { channelCredentialName } from '../../../functions/domain/channels';
import { names, tenantTagMap } from '../../../functions/domain/naming';
import { OPERATOR_PAIRING_SCRIPT_ENV } from '../../../functions/domain/operator-device';
import { connectOperator } from '../../../infra/cli/gateway-rpc';
import { startEgressPath, type EgressPath } from '../../../conformance/lib/egress-path';
import { startTelegramBotStub, type TelegramBotStub } from '../../../conformance/lib/telegram-bot-stub';
import { selfSignedCert } from '../../egress/squid-harness';
import { chromium, type Browser } from 'playwright-core';
import { approveDmRequestInUi, CHROMIUM, CHROMIUM_ARGS, openOwnerPage } from './control-ui-page';
import { runCli } from '../../cli/support';
import { LOCAL_ACCOUNT, LOCAL_CELL, LOCAL_REGION } from '../../local-cloud/env';
import { LOCAL_INGRESS_NODE_ADDRESS, startLocalCloud, type LocalCloud } from '../../local-cloud/local-cloud';
import { requireHaproxy } from '../../local-cloud/ingress/local-ingress';
import { freePort, RealGatewayIngress } from '../../local-cloud/ingress/real-gateway-ingress';
import { OpenClawTaskRuntime, realGatewayPrerequisites, realGatewayRuntimeOptions } from '../../local-cloud/openclaw-runtime';
import { runWorkflow } from '../../workflows/support';
import { describeTenant, teardownRealGatewayRun } from './harness';

const TENANTS = ['pair-a', 'pair-b'] as const;
const SENDER_USER = { id: 5550001234, firstName: 'Pat', username: 'pairing_test_sender' } as const;
const SENDER = String(SENDER_USER.id);
/** The sender the owner approves in the Control UI. */
const UI_SENDER_USER = { id: 5550005678, firstName: 'Robin', username: 'ui_pairing_sender' } as const;
const BOT_TOKEN = '7000000001:AApairing-test-not-a-real-token';
const TELEGRAM_HOST = 'api.telegram.org';
/** How long A's first poll, and each answer of A's bot, may take (a gateway turn on a loaded host). */
const TELEGRAM_BUDGET_MS = 240_000;
/** What the model stub answers (conformance/lib/model-stub.mjs): the gateway relayed a model turn. */
const MODEL_REPLY = 'stub reply from the OCTW model stub';
/** The pinned release's channel pairing store (dist chunk of openclaw 2026.9.6): `s` = readChannelAllowFromStore. */
const PAIRING_STORE = '/app/node_modules/openclaw/dist/pairing-store-LtFxdyCu.mjs';

/**
 * `<tenant>.localhost` is loopback (RFC 6761), as Chromium resolves it in the browser test; Node's
 * resolver does not know that, and its WebSocket cannot set Host. This process resolves it so.
 */
function resolveLocalhostSubdomains(): void {
  const original = dns.lookup.bind(dns);
  const patched = (host: string, options: unknown, callback?: unknown): void => {
    const cb = (typeof options === 'function' ? options : callback) as (...a: unknown[]) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as { all?: boolean };
    if (host.endsWith('.localhost')) {
      if (opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
      else cb(null, '127.0.0.1', 4);
      return;
    }
    (original as (...a: unknown[]) => void)(host, options, callback);
  };
  (dns as unknown as { lookup: unknown }).lookup = patched;
}

async function main(): Promise<void> {
  const missing = realGatewayPrerequisites();
  if (missing.length > 0) throw new Error(`cannot run here:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
  console.log(`pairing test: ${requireHaproxy()}, chromium ${CHROMIUM}`);
  resolveLocalhostSubdomains();
  const plan = LOCAL_CELL.plans.find((p) => p.bedrockModels.length === 0 && p.modelProviders.length > 0);
  if (!plan) throw new Error('no local plan runs offline (test/local-cloud/env.ts)');
  const efsRoot = mkdtempSync('/var/tmp/octw-pairing-efs-');
  mkdirSync(join(efsRoot, 'tenants'));
  // The Bot API stub's certificate, readable by the gateway's uid (the task trusts it as the image trusts a public CA).
  const dir = mkdtempSync('/var/tmp/octw-pairing-tg-');
  chmodSync(dir, 0o755);
  const cert = selfSignedCert(dir, 'telegram-stub', [TELEGRAM_HOST]);
  const caFile = join(dir, 'stub-ca.crt');
  copyFileSync(cert.cert, caFile);
  chmodSync(caFile, 0o644);
  const stubAddress = `127.${20 + (process.pid % 200)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
  let egress: EgressPath | undefined;
  const runtime = new OpenClawTaskRuntime({
    efsRoot,
    ingressSourceAddress: LOCAL_INGRESS_NODE_ADDRESS,
    egress: {
      taskRoute: (proxyUrl) => {
        if (!egress) throw new Error('a task started before the egress proxy');
        return egress.taskRoute(proxyUrl);
      },
      imageEnv: { NODE_EXTRA_CA_CERTS: caFile },
    },
  });
  const port = await freePort();
  let cloud: LocalCloud | undefined;
  let ingress: RealGatewayIngress | undefined;
  let bot: TelegramBotStub | undefined;
  let browser: Browser | undefined;
  let policyTimer: NodeJS.Timeout | undefined;
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) problems.push(what);
  };
  try {
    cloud = await startLocalCloud({
      taskRuntime: { runtime, options: realGatewayRuntimeOptions() },
      env: { GATEWAY_WAIT_SECONDS: '1500', TENANTS_MOUNT_PATH: join(efsRoot, 'tenants') },
      ingress: { shards: 1, probeOrigin: `http://127.0.0.1:${port}` },
    });
    const c = cloud;
    bot = await startTelegramBotStub({ address: stubAddress, cert: cert.cert, key: cert.key });
    const tg = bot;
    // The cell's real Squid, its policy read from the table the Egress function writes (as the proxy sidecar polls it).
    egress = await startEgressPath({ policyTableName: c.egressPolicyTableName, dir, upstreamHosts: { [TELEGRAM_HOST]: stubAddress } });
    const eg = egress;
    // Closed until the first tenant's policy is written (no #version item before that), as the sidecar starts.
    policyTimer = setInterval(() => void eg.refresh().catch(() => undefined), 2000);
    ingress = new RealGatewayIngress(c.fake, runtime, { port, domain: c.ingress!.settings.domain, listenerArns: c.ingress!.settings.shards.map((s) => s.listenerArn) });
    await ingress.start();
    const started = Date.now();
    for (const tenantId of TENANTS) await c.signup({ tenantId, displayName: tenantId, ownerEmail: `ops@${tenantId}.example`, plan: plan.id });
    await c.settle();
    for (const t of TENANTS) {
      const r = await c.store.require(t);
      if (r.status !== 'ACTIVE' || !r.ingress) throw new Error(await describeTenant(c, t));
    }
    console.log(`2 tenants ACTIVE behind HAProxy in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    // A's Telegram channel, through the update workflow (credential by reference, as the CLI stores it).
    const [a, b] = TENANTS;
    const tenant = { cell: LOCAL_CELL.cellId, tenantId: a };
    const secretName = names.credentialSecret(tenant, channelCredentialName('telegram', 'botToken'));
    const sm = new SecretsManagerClient({ region: LOCAL_REGION });
    await sm.send(new CreateSecretCommand({ Name: secretName, SecretString: BOT_TOKEN, Tags: Object.entries(tenantTagMap(tenant)).map(([Key, Value]) => ({ Key, Value })) }));
    const updated = await runWorkflow(c, 'UpdateTenant', { tenantId: a, channels: [{ type: 'telegram', settings: {}, credentials: { botToken: secretName } }] });
    if (updated.status !== 'SUCCEEDED') throw new Error(`A's channel update ended ${updated.status} (${JSON.stringify(updated).slice(0, 600)}): ${await describeTenant(c, a)}`);
    const updatedAt = Date.now();
    await eg.refresh();
    const recordA = await c.store.require(a);
    const recordB = await c.store.require(b);
    console.log(`A has a telegram channel (update ${((Date.now() - started) / 1000).toFixed(0)} s after signup)`);

    const gatewayA = runtime.launched.filter((g) => g.serviceName === names.service({ cell: LOCAL_CELL.cellId, tenantId: a }) && !g.stopped).at(-1);
    if (!gatewayA) throw new Error("no running gateway for A");
    // The pairing script ran in A's task: its log line says the operator device is paired.
    const paired = await waitFor(() => /octw operator pairing: operator device [0-9a-f]{12} paired/.test(gatewayA.handle.logs()), 120_000);
    check(paired, `A's task paired the operator device over loopback (${OPERATOR_PAIRING_SCRIPT_ENV})`);

    // A's Telegram channel polls the Bot API stub through the cell's Squid (its policy allows api.telegram.org for A).
    const polled = await waitFor(() => tg.polledSince(BOT_TOKEN, updatedAt), TELEGRAM_BUDGET_MS);
    check(polled, `A's gateway polls the Bot API (getUpdates) through the egress proxy (calls seen: ${summarizeCalls(tg)})`);
    if (!polled) throw new Error(`A's Telegram channel never polled; gateway log tail:\n${gatewayA.handle.logs().slice(-3000)}`);

    // An unknown sender writes to A's bot: with dmPolicy "pairing" the gateway answers with a pairing code and does not process the message.
    const completionsBefore = completions(gatewayA.handle.modelStubLog);
    tg.sendPrivateMessage(BOT_TOKEN, SENDER_USER, 'hello, may I talk to your assistant?');
    const pairingReply = await waitForValue(() => tg.messagesTo(SENDER_USER.id).find((t) => /Pairing code:/.test(t)), TELEGRAM_BUDGET_MS);
    // Telegram gets it as HTML (`<pre><code>CODE</code></pre>`); 8 of OpenClaw's code alphabet (no 0, O, 1, I).
    const code = pairingReply ? /Pairing code:\s*(?:<pre><code>|```)?\s*([A-HJ-NP-Z2-9]{8})\b/.exec(pairingReply)?.[1] : undefined;
    check(code !== undefined, `the unknown sender ${SENDER} got a pairing code from A's bot (${(pairingReply ?? (tg.messagesTo(SENDER_USER.id).join(' | ') || 'no message to the sender')).replace(/\s+/g, ' ').slice(0, 160)})`);
    check(completions(gatewayA.handle.modelStubLog) === completionsBefore, "the unknown sender's message was not processed (no model call)");

    const env = {
      OCTW_TABLE: c.tableName,
      OCTW_STATE_MACHINE_ARN_PREFIX: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:{key}`,
      OCTW_EVENT_BUS: LOCAL_CELL.eventBusName,
      AWS_REGION: LOCAL_REGION,
    };
    const endpointA = ingress.localUrl(recordA.ingress!.hostname);
    const endpointB = ingress.localUrl(recordB.ingress!.hostname);
    const listA = await runCli(['tenants', 'pairing', 'list', a, '--endpoint', endpointA, '--json'], env);
    const listed = listA.code === 0 ? (JSON.parse(listA.stdout) as { requests: { requestId: string; channel: string; senderId: string }[] }).requests : [];
    console.log(`  octw tenants pairing list ${a}: exit ${listA.code}, ${listed.length} request(s) ${listA.stderr.trim().slice(0, 300)}`);
    const request = listed.find((r) => r.channel === 'telegram' && r.senderId === SENDER);
    check(request !== undefined, `list through ${endpointA} shows the telegram request of ${SENDER}`);
    check(!listA.stdout.includes(code ?? '@@none'), 'the list does not show the pairing code (the gateway keeps codes out of its API)');
    check(!JSON.stringify(listA).includes((c.fake.secret(names.secret(tenant))?.secretString ?? '@@none')), "A's gateway token appears nowhere in the CLI's output");

    const wrong = await runCli(['tenants', 'pairing', 'approve', a, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '--endpoint', endpointA, '--json'], env);
    check(wrong.code === 3 && /no pending pairing request/.test(wrong.stderr), `approve with a wrong request id is refused (exit ${wrong.code}: ${wrong.stderr.trim().slice(0, 200)})`);

    // B's token at A's endpoint: the gateway refuses it before any method runs.
    const tokenB = c.fake.secret(names.secret({ cell: LOCAL_CELL.cellId, tenantId: b }))?.secretString ?? '';
    let bRefused = '';
    try {
      const rpc = await connectOperator({ url: endpointA.replace(/^http/, 'ws') + '/', token: tokenB });
      rpc.close();
      bRefused = 'CONNECTED';
    } catch (err) {
      bRefused = err instanceof Error ? err.message : String(err);
    }
    check(/token mismatch|unauthorized/i.test(bRefused), `B's token at A's endpoint is refused by A's gateway (${bRefused.slice(0, 160)})`);
    const listB = await runCli(['tenants', 'pairing', 'list', b, '--endpoint', endpointB, '--json'], env);
    const bRequests = listB.code === 0 ? (JSON.parse(listB.stdout) as { requests: unknown[] }).requests : undefined;
    check(listB.code === 0 && bRequests?.length === 0, `B's own endpoint lists none of A's requests (exit ${listB.code}, ${bRequests?.length ?? '-'} request(s); ${listB.stderr.trim().slice(0, 200)})`);

    if (request) {
      const ok = await runCli(['tenants', 'pairing', 'approve', a, request.requestId, '--endpoint', endpointA], env);
      check(ok.code === 0 && ok.stdout.includes(`sender ${SENDER}`), `approve ${request.requestId} succeeds (exit ${ok.code}: ${(ok.stdout + ok.stderr).trim().slice(0, 200)})`);
      const again = await runCli(['tenants', 'pairing', 'list', a, '--endpoint', endpointA, '--json'], env);
      const left = again.code === 0 ? (JSON.parse(again.stdout) as { requests: { senderId: string }[] }).requests : undefined;
      check(left !== undefined && !left.some((r) => r.senderId === SENDER), 'the approved request is no longer pending');
      const allow = await gatewayA.handle.exec(
        ['node', '--input-type=module', '-e', `const m=await import(${JSON.stringify(PAIRING_STORE)});console.log(JSON.stringify(await m.s('telegram',process.env,'default')));`],
        { timeoutMs: 120_000 },
      );
      check(allow.stdout.includes(SENDER), `the sender is in A's telegram allow store (${allow.stdout.trim().slice(0, 120)})`);
      // Admitted: the sender's next message is processed (a model turn) and answered in the chat.
      const before = completions(gatewayA.handle.modelStubLog);
      const sentBefore = tg.messagesTo(SENDER_USER.id).length;
      tg.sendPrivateMessage(BOT_TOKEN, SENDER_USER, 'thanks for approving me: are you there?');
      const answer = await waitForValue(() => tg.messagesTo(SENDER_USER.id).slice(sentBefore).find((t) => t.includes(MODEL_REPLY)), TELEGRAM_BUDGET_MS);
      check(answer !== undefined, `after approval A's gateway answers the sender with the model's reply (${tg.messagesTo(SENDER_USER.id).slice(sentBefore).join(' | ').replace(/\s+/g, ' ').slice(0, 200) || 'nothing sent to the sender'})`);
      check(completions(gatewayA.handle.modelStubLog) > before, "the sender's message after approval reached the model (model stub log)");
      const twice = await runCli(['tenants', 'pairing', 'approve', a, request.requestId, '--endpoint', endpointA], env);
      check(twice.code === 3, `approving the same request again is refused (exit ${twice.code}: ${twice.stderr.trim().slice(0, 160)})`);
    }

    // --- The owner, in the Control UI: a second unknown sender, approved by the owner in the browser.
    console.log("the owner's Control UI in headless Chromium");
    tg.sendPrivateMessage(BOT_TOKEN, UI_SENDER_USER, 'hi, a friend told me about this bot');
    const reply2 = await waitForValue(() => tg.messagesTo(UI_SENDER_USER.id).find((t) => /Pairing code:/.test(t)), TELEGRAM_BUDGET_MS);
    check(reply2 !== undefined, `a second unknown sender ${UI_SENDER_USER.id} got a pairing code`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const tokenA = c.fake.secret(names.secret(tenant))?.secretString ?? '';
    const owner = await openOwnerPage(browser, `${endpointA}/#token=${encodeURIComponent(tokenA)}`);
    await waitFor(() => owner.pairingRequired() || owner.connectedSince(0), 90_000);
    check(owner.pairingRequired() && !owner.connectedSince(0), `the owner's browser is authenticated by the token and held back until its device is approved (${owner.pairingRequired() ? 'pairing required' : (owner.frames.at(-1) ?? 'no frame').slice(0, 160)})`);

    // The operator approves the browser's device request through A's endpoint.
    const devices = await runCli(['tenants', 'devices', 'list', a, '--endpoint', endpointA, '--json'], env);
    const pendingDevices = devices.code === 0 ? (JSON.parse(devices.stdout) as { pending: { requestId: string; clientId?: string; role?: string; scopes?: string[] }[] }).pending : [];
    const browserRequest = pendingDevices.find((p) => p.role === 'operator' && p.clientId !== 'cli');
    check(
      browserRequest !== undefined && (browserRequest.scopes ?? []).includes('operator.admin'),
      `octw tenants devices list shows the browser's request, for the Control UI's scopes (exit ${devices.code}; ${JSON.stringify(pendingDevices.map((p) => [p.clientId, p.role, (p.scopes ?? []).join(' ')]))} ${devices.stderr.trim().slice(0, 200)})`,
    );
    const wrongDevice = await runCli(['tenants', 'devices', 'approve', a, 'no-such-request', '--endpoint', endpointA, '--json'], env);
    check(wrongDevice.code === 3 && /no pending device request/.test(wrongDevice.stderr), `approving an unknown device request is refused (exit ${wrongDevice.code}: ${wrongDevice.stderr.trim().slice(0, 160)})`);
    if (browserRequest) {
      const mark = owner.frames.length;
      const approvedDevice = await runCli(['tenants', 'devices', 'approve', a, browserRequest.requestId, '--endpoint', endpointA], env);
      check(approvedDevice.code === 0, `octw tenants devices approve ${browserRequest.requestId} (exit ${approvedDevice.code}: ${(approvedDevice.stdout + approvedDevice.stderr).trim().slice(0, 200)})`);
      // The page retries on its own while it waits for approval; a reload is what the owner would do otherwise.
      let connected = await waitFor(() => owner.connectedSince(mark), 90_000);
      if (!connected) {
        await owner.page.reload({ waitUntil: 'domcontentloaded' }).catch(() => undefined);
        connected = await waitFor(() => owner.connectedSince(mark), 60_000);
      }
      check(connected, `after the approval the owner's browser is connected (hello-ok; last frame ${(owner.frames.at(-1) ?? '-').slice(0, 160)})`);
      if (connected) {
        const shown = await approveDmRequestInUi(owner, endpointA, String(UI_SENDER_USER.id), 90_000).then(
          (dialog) => ({ ok: true, dialog }),
          (err: unknown) => ({ ok: false, dialog: err instanceof Error ? err.message : String(err) }),
        );
        check(shown.ok, `the owner approved ${UI_SENDER_USER.id} in Channels → DM access requests (${shown.dialog.slice(0, 300)})`);
        const after = await runCli(['tenants', 'pairing', 'list', a, '--endpoint', endpointA, '--json'], env);
        const still = after.code === 0 ? (JSON.parse(after.stdout) as { requests: { senderId: string }[] }).requests : undefined;
        check(still !== undefined && !still.some((r) => r.senderId === String(UI_SENDER_USER.id)), "the request the owner approved is no longer pending");
        const sent = tg.messagesTo(UI_SENDER_USER.id).length;
        tg.sendPrivateMessage(BOT_TOKEN, UI_SENDER_USER, 'approved in the Control UI: hello again');
        const answer2 = await waitForValue(() => tg.messagesTo(UI_SENDER_USER.id).slice(sent).find((t) => t.includes(MODEL_REPLY)), TELEGRAM_BUDGET_MS);
        check(answer2 !== undefined, `the sender the owner approved is answered with the model's reply (${tg.messagesTo(UI_SENDER_USER.id).slice(sent).join(' | ').replace(/\s+/g, ' ').slice(0, 200) || 'nothing sent'})`);
      }
    }
  } finally {
    clearInterval(policyTimer);
    await teardownRealGatewayRun({ browser, cloud, ingress, runtime, efsRoot, problems });
    await egress?.stop();
    await bot?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    console.error(`\nPAIRING TEST FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exitCode = 1;
  } else console.log('\npairing test passed');
}

async function waitFor(predicate: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return predicate();
}

async function waitForValue<T>(probe: () => T | undefined, ms: number): Promise<T | undefined> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return probe();
}

/** Chat-completion requests the task's model stub answered (one JSON line each). */
function completions(modelStubLog: string): number {
  if (!existsSync(modelStubLog)) return 0;
  return readFileSync(modelStubLog, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"method":"POST"') && l.includes('/chat/completions')).length;
}

function summarizeCalls(stub: TelegramBotStub): string {
  const counts = new Map<string, number>();
  for (const c of stub.calls) counts.set(c.method, (counts.get(c.method) ?? 0) + 1);
  return [...counts].map(([m, n]) => `${m} ${n}`).join(', ') || 'none';
}

main().catch((err: unknown) => {
  console.error(`pairing test failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
