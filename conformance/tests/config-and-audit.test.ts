/**
 * For every plan in cdk.json, every plan of the local cloud and every model/channel combination the
 * platform renders: the openclaw.json the init container writes (owner, mode) in the gateway
 * container's context passes `openclaw config validate`, and `openclaw security audit --json` has no
 * critical finding and no warning that conformance/accepted-findings.json does not accept.
 */
import { GATEWAY_CONTAINER } from '../../functions/domain/naming';
import { launchGateway, type GatewayHandle } from '../lib/launch-gateway';
import { accepted, audit, missingPlugins, plansToCover, POSIX_USER, recordTiming, secretsFor, taskDefinitionFor, validate } from '../lib/support';

const TOKEN = 'c'.repeat(48);
const cases = plansToCover();
// The audit of a plan whose plugin is missing takes ~2 min (it tries to fetch the plugin): audit every
// cdk.json plan and one plan per model combination; validate all.
const AUDITED = new Set(['local-cloud plan offline', 'combination: custom provider with key', 'combination: Bedrock + custom provider with key']);

describe.each(cases.map((c, i) => ({ ...c, i })))('$label', ({ label, plan, i }) => {
  let gw: GatewayHandle;
  beforeAll(async () => {
    const td = taskDefinitionFor(plan);
    // A fresh task and access point per case: state left by one plan must not colour another's checks.
    const id = `cfg-${i}-${process.pid}`;
    gw = await launchGateway(td, { secrets: secretsFor(td, TOKEN), posixUser: POSIX_USER, startGateway: false, id, removeWorkDirOnStop: true });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('gets its config written as the init container writes it: 0400, owned by the gateway uid', async () => {
    const r = await gw.exec(['stat', '-c', '%a %u %g', '/octw/config/openclaw.json']);
    expect(r.stdout.trim()).toBe(`400 ${POSIX_USER.uid} ${POSIX_USER.gid}`);
    const user = taskDefinitionFor(plan).containerDefinitions.find((c) => c.name === GATEWAY_CONTAINER)?.user;
    expect(user).toBe(`${POSIX_USER.uid}:${POSIX_USER.gid}`);
  });

  it('passes openclaw config validate; its only warnings state plugins the package set lacks', async () => {
    const t0 = Date.now();
    const v = await validate(gw);
    recordTiming(`config validate (${label})`, Date.now() - t0);
    expect(v.valid).toBe(true);
    expect(v.code).toBe(0);
    // The plan's guardrail is not rendered (IAM enforces it): a missing plugin is reported at plugins.allow only.
    const expected = missingPlugins(plan).map((id) => `plugins.allow: plugin not installed: ${id}`);
    expect(v.warnings.map((w) => `${w.path}: ${w.message.split(' — ')[0]}`).sort()).toEqual(expected.sort());
    const ok = accepted().validateWarnings.map((w) => `${w.path}: ${w.message}`);
    for (const w of v.warnings) expect(ok).toContain(`${w.path}: ${w.message.split(' — ')[0]}`);
    if (missingPlugins(plan).length === 0) expect(await gw.outboundAttempts()).toBe(0);
  });

  const auditIt = label.startsWith('cdk.json') || AUDITED.has(label) ? it : it.skip;
  auditIt('has no critical audit finding, and every audit warning is accepted with a reason', async () => {
    const t0 = Date.now();
    const a = await audit(gw);
    recordTiming(`security audit (${label})`, Date.now() - t0);
    expect(a.findings.filter((f) => f.severity === 'critical')).toEqual([]);
    const ok = new Set(accepted().auditWarnings.map((w) => w.checkId));
    expect(a.findings.filter((f) => f.severity === 'warn' && !ok.has(f.checkId))).toEqual([]);
    // A plan whose plugins the package set carries makes the audit reach for nothing outside the task.
    if (missingPlugins(plan).length === 0) expect(await gw.outboundAttempts()).toBe(0);
    else console.log(`${label}: outbound attempts during audit (fetching the missing plugin): ${await gw.outboundAttempts()}`);
  });
});
