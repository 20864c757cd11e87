/**
 * What the real-gateway harnesses (`npm run test:browser`, `npm run test:pairing`) share: the
 * teardown of the local cloud, the local HAProxy and the gateways, with a check that no gateway
 * process outlives the run, and a readable account of a tenant that did not end where it should.
 */
import { rmSync } from 'node:fs';
import type { LocalCloud } from '../../local-cloud/local-cloud';
import type { RealGatewayIngress } from '../../local-cloud/ingress/real-gateway-ingress';
import type { OpenClawTaskRuntime } from '../../local-cloud/openclaw-runtime';

/** Stops what a harness started (each part only if it got that far); appends to `problems` any gateway still running. */
export async function teardownRealGatewayRun(parts: {
  readonly cloud: LocalCloud | undefined;
  readonly ingress: RealGatewayIngress | undefined;
  readonly runtime: OpenClawTaskRuntime;
  readonly efsRoot: string;
  readonly problems: string[];
  readonly browser?: { close(): Promise<void> } | undefined;
}): Promise<void> {
  await parts.browser?.close();
  await parts.cloud?.stop();
  await parts.ingress?.stop();
  const left = parts.runtime.launched.filter((g) => !g.stopped);
  if (left.length > 0) parts.problems.push(`${left.length} gateway process(es) still running: ${left.map((g) => g.handle.pid).join(', ')}`);
  rmSync(parts.efsRoot, { recursive: true, force: true });
}

/** `<tenant> is <status>: <last error>` for a tenant that is not where the run expected it. */
export async function describeTenant(cloud: LocalCloud, tenantId: string): Promise<string> {
  const r = await cloud.store.require(tenantId);
  return `${tenantId} is ${r.status}${r.lastError ? `: ${r.lastError.name}: ${r.lastError.message}` : ''}`;
}
