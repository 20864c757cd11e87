/**
 * The platform operator's gateway device (functions/domain/operator-device.ts): derived from the
 * gateway token the same way by the CLI (TypeScript) and by the task (the `node -e` script), signing
 * OpenClaw's v3 device-auth payload verifiably with the key it announces.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { runInNewContext, Script } from 'node:vm';
import {
  OPERATOR_CLIENT,
  OPERATOR_DEVICE_DERIVATION_JS,
  OPERATOR_PAIRING_SCRIPT,
  OPERATOR_PAIRING_SCRIPT_ENV,
  DM_PAIRING_SCOPES,
  OPERATOR_DEVICE_SCOPES,
  deviceAuthPayloadV3,
  operatorConnectParams,
  operatorDevice,
} from '../../../functions/domain/operator-device';
import { GATEWAY_TOKEN_ENV } from '../../../functions/domain/openclaw-config';
import { gatewayStart } from '../../../functions/domain/task-definition';

const TOKEN = 'a'.repeat(43);

/** Runs the script's derivation part with `token` in its environment; returns what it derived. */
function scriptDerivation(token: string): { id: string; publicKey: string } {
  const sandbox = { require, Buffer, process: { env: { [GATEWAY_TOKEN_ENV]: token }, exit: () => undefined }, console, out: {} as { id?: string; publicKey?: string } };
  runInNewContext(`${OPERATOR_DEVICE_DERIVATION_JS}out.id=id;out.publicKey=raw.toString('base64url');`, sandbox);
  return { id: sandbox.out.id!, publicKey: sandbox.out.publicKey! };
}

describe('operatorDevice', () => {
  it('is a function of the token: the same token gives the same device, another token another device', () => {
    expect(operatorDevice(TOKEN).deviceId).toBe(operatorDevice(TOKEN).deviceId);
    expect(operatorDevice(TOKEN).deviceId).not.toBe(operatorDevice('b'.repeat(43)).deviceId);
    expect(() => operatorDevice('')).toThrow(/empty/);
  });

  it("names the device as OpenClaw does (sha256 of the raw 32-byte public key) and signs verifiably with that key", () => {
    const d = operatorDevice(TOKEN);
    const raw = Buffer.from(d.publicKey, 'base64url');
    expect(raw).toHaveLength(32);
    expect(d.deviceId).toBe(createHash('sha256').update(raw).digest('hex'));
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from('payload'), pub, Buffer.from(d.sign('payload'), 'base64url'))).toBe(true);
    expect(verify(null, Buffer.from('other payload'), pub, Buffer.from(d.sign('payload'), 'base64url'))).toBe(false);
  });

  it("is the device the task's pairing script derives (same id and public key)", () => {
    for (const token of [TOKEN, 'x7-Q_token/with+chars=', 'ü'.repeat(10)]) {
      const fromScript = scriptDerivation(token);
      expect(fromScript).toEqual({ id: operatorDevice(token).deviceId, publicKey: operatorDevice(token).publicKey });
    }
  });
});

describe('operatorConnectParams', () => {
  it('signs the v3 payload of exactly the client, role, scopes, challenge and token it sends', () => {
    const p = operatorConnectParams(TOKEN, { nonce: 'n-1', ts: 1_700_000_000_000 }) as {
      client: { id: string; mode: string; platform: string };
      role: string;
      scopes: string[];
      auth: { token: string };
      device: { id: string; publicKey: string; signature: string; signedAt: number; nonce: string };
    };
    expect(p.scopes).toEqual([...OPERATOR_DEVICE_SCOPES]);
    expect(p.client).toMatchObject({ id: OPERATOR_CLIENT.id, mode: OPERATOR_CLIENT.mode, platform: OPERATOR_CLIENT.platform });
    const payload = deviceAuthPayloadV3({
      deviceId: p.device.id,
      clientId: p.client.id,
      clientMode: p.client.mode,
      role: p.role,
      scopes: p.scopes,
      signedAtMs: p.device.signedAt,
      token: p.auth.token,
      nonce: p.device.nonce,
      platform: p.client.platform,
    });
    expect(payload).toBe(`v3|${p.device.id}|cli|cli|operator|${OPERATOR_DEVICE_SCOPES.join(',')}|1700000000000|${TOKEN}|n-1|linux|`);
    const pub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(p.device.publicKey, 'base64url')]), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(payload), pub, Buffer.from(p.device.signature, 'base64url'))).toBe(true);
  });
});

describe('operatorConnectParams scopes', () => {
  it('asks for the subset a command names (DM pairing: operator.pairing only), signed as sent', () => {
    const p = operatorConnectParams(TOKEN, { nonce: 'n-2', ts: 1 }, DM_PAIRING_SCOPES) as { scopes: string[]; device: { signature: string; publicKey: string; id: string } };
    expect(p.scopes).toEqual(['operator.pairing']);
    const payload = `v3|${p.device.id}|cli|cli|operator|operator.pairing|1|${TOKEN}|n-2|linux|`;
    const pub = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(p.device.publicKey, 'base64url')]), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(payload), pub, Buffer.from(p.device.signature, 'base64url'))).toBe(true);
  });

  it('refuses a scope the device is not paired for, and an empty set', () => {
    expect(() => operatorConnectParams(TOKEN, { nonce: 'n', ts: 1 }, ['operator.pairing', 'node.invoke'])).toThrow(/paired only for .*asked for operator.pairing, node.invoke/);
    expect(() => operatorConnectParams(TOKEN, { nonce: 'n', ts: 1 }, [])).toThrow(/asked for nothing/);
  });

  it("the task's script pairs the device for the Control UI's default operator scopes (what approving the owner's browser needs)", () => {
    expect(OPERATOR_PAIRING_SCRIPT).toContain(`const scopes=${JSON.stringify(OPERATOR_DEVICE_SCOPES)}`);
  });
});

describe('the gateway container start (task definition)', () => {
  it('without ingress: the gateway itself, no script', () => {
    const s = gatewayStart(false);
    expect(s.entryPoint).toBeUndefined();
    expect(s.command).toEqual(['node', 'node_modules/openclaw/openclaw.mjs', 'gateway', '--bind', 'lan', '--port', '18789']);
    expect(s.environment).toEqual([]);
  });

  it('with ingress: the pairing script in the background, then exec of the same gateway command; the script carries no token', () => {
    const s = gatewayStart(true);
    expect(s.entryPoint).toEqual(['/bin/sh', '-c']);
    expect(s.command).toEqual([`(sleep 20 && exec node -e "$${OPERATOR_PAIRING_SCRIPT_ENV}") & exec node node_modules/openclaw/openclaw.mjs gateway --bind lan --port 18789`]);
    expect(s.environment).toEqual([{ name: OPERATOR_PAIRING_SCRIPT_ENV, value: OPERATOR_PAIRING_SCRIPT }]);
    expect(OPERATOR_PAIRING_SCRIPT).toContain(`process.env.${GATEWAY_TOKEN_ENV}`);
    expect(() => new Script(OPERATOR_PAIRING_SCRIPT)).not.toThrow();
  });
});
