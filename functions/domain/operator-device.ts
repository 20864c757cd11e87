/**
 * The platform operator's gateway device (issue 12 item 6: `octw tenants pairing` over the
 * tenant's endpoint).
 *
 * OpenClaw 2026.9.6 gives a WebSocket client scopes only with a paired device identity (an Ed25519
 * key that signs the connect challenge); a client that shows only the shared gateway token gets no
 * scopes, and a new device connecting from anywhere but the task's own loopback needs someone who
 * already holds `operator.pairing` to approve it. Nobody outside the task does at first. So:
 *  - the operator device's key is derived from the tenant's gateway token (HKDF-SHA256, a fixed
 *    label): whoever may read the token (the operator's credentials, the task) can derive it, no
 *    second secret is stored;
 *  - inside the task, OPERATOR_PAIRING_SCRIPT connects once over loopback with that device; the
 *    gateway approves a direct-loopback device silently (its local auto-approval, which also covers
 *    a scope upgrade of a device paired by an older script), for exactly OPERATOR_DEVICE_SCOPES;
 *  - the CLI then connects through the ingress with the same device and client metadata, asking
 *    per command for no more than it needs: DM_PAIRING_SCOPES for `channels.pairing.list` /
 *    `channels.pairing.approve`, OPERATOR_DEVICE_SCOPES for `device.pair.list` /
 *    `device.pair.approve` (approving the owner's browser: OpenClaw lets only a caller holding every
 *    scope a device asks for approve it, and the Control UI asks for all of these).
 * The client metadata must be the same on both sides: OpenClaw pins it on the paired device.
 *
 * The script is plain JavaScript for `node -e` (the image has only Node and OpenClaw); its
 * derivation is the one `operatorDevice` implements, checked by test/unit/domain/operator-device.test.ts.
 */
import { createHash, createPrivateKey, createPublicKey, hkdfSync, sign, type KeyObject } from 'node:crypto';
import { GATEWAY_PORT } from './naming';
import { GATEWAY_TOKEN_ENV } from './openclaw-config';

/**
 * What the operator device is paired with: the scopes the pinned Control UI asks for when the owner's
 * browser connects (its default operator set), so the device can approve that browser.
 */
export const OPERATOR_DEVICE_SCOPES = ['operator.admin', 'operator.read', 'operator.write', 'operator.approvals', 'operator.questions', 'operator.pairing'] as const;
/** What the DM pairing commands connect with: list, approve and dismiss DM pairing requests. */
export const DM_PAIRING_SCOPES = ['operator.pairing'] as const;
/** Connect metadata of the operator device, identical in the task and in the CLI. */
export const OPERATOR_CLIENT = { id: 'cli', mode: 'cli', platform: 'linux', version: 'octw-operator' } as const;
export const OPERATOR_DEVICE_LABEL = 'octw operator device v1';
/** The gateway's protocol version the client speaks (handshake docs of the pinned release). */
export const GATEWAY_PROTOCOL = 4;
/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = '302e020100300506032b657004220420';
/** SPKI DER of an Ed25519 public key is this 12-byte header + the 32 raw bytes. */
const ED25519_SPKI_HEADER_BYTES = 12;

export interface OperatorDevice {
  /** sha256 of the raw public key, hex (how OpenClaw names a device). */
  readonly deviceId: string;
  /** Raw public key, base64url. */
  readonly publicKey: string;
  /** Ed25519 signature of a UTF-8 payload, base64url. */
  sign(payload: string): string;
}

export function operatorDevice(gatewayToken: string): OperatorDevice {
  if (gatewayToken.length === 0) throw new RangeError('the gateway token is empty');
  const seed = Buffer.from(hkdfSync('sha256', gatewayToken, Buffer.alloc(0), OPERATOR_DEVICE_LABEL, 32));
  const key: KeyObject = createPrivateKey({ key: Buffer.concat([Buffer.from(ED25519_PKCS8_PREFIX, 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const raw = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_HEADER_BYTES);
  return {
    deviceId: createHash('sha256').update(raw).digest('hex'),
    publicKey: raw.toString('base64url'),
    sign: (payload) => sign(null, Buffer.from(payload, 'utf8'), key).toString('base64url'),
  };
}

/** OpenClaw's v3 device-auth payload (packages/gateway-client device-auth of the pinned release). */
export function deviceAuthPayloadV3(p: {
  deviceId: string;
  clientId: string;
  clientMode: string;
  role: string;
  scopes: readonly string[];
  signedAtMs: number;
  token: string;
  nonce: string;
  platform: string;
}): string {
  return ['v3', p.deviceId, p.clientId, p.clientMode, p.role, p.scopes.join(','), String(p.signedAtMs), p.token, p.nonce, p.platform.trim().toLowerCase(), ''].join('|');
}

/** The `connect` request params of the operator device, for a challenge (nonce, ts). */
export function operatorConnectParams(token: string, challenge: { nonce: string; ts: number }, scopes: readonly string[] = OPERATOR_DEVICE_SCOPES): Record<string, unknown> {
  const unknown = scopes.filter((s) => !(OPERATOR_DEVICE_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0 || scopes.length === 0) throw new RangeError(`the operator device is paired only for ${OPERATOR_DEVICE_SCOPES.join(', ')}; asked for ${scopes.join(', ') || 'nothing'}`);
  const device = operatorDevice(token);
  const payload = deviceAuthPayloadV3({
    deviceId: device.deviceId,
    clientId: OPERATOR_CLIENT.id,
    clientMode: OPERATOR_CLIENT.mode,
    role: 'operator',
    scopes,
    signedAtMs: challenge.ts,
    token,
    nonce: challenge.nonce,
    platform: OPERATOR_CLIENT.platform,
  });
  return {
    minProtocol: GATEWAY_PROTOCOL,
    maxProtocol: GATEWAY_PROTOCOL,
    client: { id: OPERATOR_CLIENT.id, version: OPERATOR_CLIENT.version, platform: OPERATOR_CLIENT.platform, mode: OPERATOR_CLIENT.mode },
    role: 'operator',
    scopes: [...scopes],
    caps: [],
    auth: { token },
    device: { id: device.deviceId, publicKey: device.publicKey, signature: device.sign(payload), signedAt: challenge.ts, nonce: challenge.nonce },
  };
}

/** Environment variable the gateway container carries the pairing script in. */
export const OPERATOR_PAIRING_SCRIPT_ENV = 'OCTW_OPERATOR_PAIRING_SCRIPT';

/**
 * Runs in the gateway container next to the gateway (`node -e`): polls the gateway on loopback
 * until a connect with the operator device is answered hello-ok (the gateway pairs a loopback
 * device silently), then exits 0; gives up after 20 minutes (exit 1: the operator's pairing
 * commands then get "pairing required"). Logs one line per outcome, never the token.
 */
/** The script's derivation of the device (defines c, token, key, raw, id): the one `operatorDevice` implements. */
export const OPERATOR_DEVICE_DERIVATION_JS = [
  `const c=require('node:crypto');`,
  `const token=process.env.${GATEWAY_TOKEN_ENV}||'';`,
  `if(!token){console.error('octw operator pairing: no gateway token');process.exit(1);}`,
  `const seed=Buffer.from(c.hkdfSync('sha256',token,Buffer.alloc(0),${JSON.stringify(OPERATOR_DEVICE_LABEL)},32));`,
  `const key=c.createPrivateKey({key:Buffer.concat([Buffer.from('${ED25519_PKCS8_PREFIX}','hex'),seed]),format:'der',type:'pkcs8'});`,
  `const raw=c.createPublicKey(key).export({format:'der',type:'spki'}).subarray(${ED25519_SPKI_HEADER_BYTES});`,
  `const id=c.createHash('sha256').update(raw).digest('hex');`,
].join('');

export const OPERATOR_PAIRING_SCRIPT = [
  OPERATOR_DEVICE_DERIVATION_JS,
  `const scopes=${JSON.stringify(OPERATOR_DEVICE_SCOPES)};const cl=${JSON.stringify(OPERATOR_CLIENT)};`,
  `const until=Date.now()+20*60*1000;`,
  `function attempt(){return new Promise((done)=>{let ws;try{ws=new WebSocket('ws://127.0.0.1:${GATEWAY_PORT}/');}catch(e){done('error');return;}`,
  `const t=setTimeout(()=>{try{ws.close();}catch{}done('timeout');},15000);`,
  `ws.onerror=()=>{clearTimeout(t);done('error');};ws.onclose=()=>{clearTimeout(t);done('closed');};`,
  `ws.onmessage=(m)=>{let f;try{f=JSON.parse(String(m.data));}catch{return;}`,
  `if(f.type==='event'&&f.event==='connect.challenge'){const n=f.payload.nonce,ts=f.payload.ts;`,
  `const p=['v3',id,cl.id,cl.mode,'operator',scopes.join(','),String(ts),token,n,cl.platform,''].join('|');`,
  `const sig=c.sign(null,Buffer.from(p,'utf8'),key).toString('base64url');`,
  `ws.send(JSON.stringify({type:'req',id:'octw-pair',method:'connect',params:{minProtocol:${GATEWAY_PROTOCOL},maxProtocol:${GATEWAY_PROTOCOL},client:{id:cl.id,version:cl.version,platform:cl.platform,mode:cl.mode},role:'operator',scopes,caps:[],auth:{token},device:{id,publicKey:raw.toString('base64url'),signature:sig,signedAt:ts,nonce:n}}}));}`,
  `else if(f.type==='res'&&f.id==='octw-pair'){clearTimeout(t);try{ws.close();}catch{}done(f.ok?'paired':'refused: '+String(f.error&&f.error.message));}};});}`,
  `(async()=>{while(Date.now()<until){const r=await attempt();`,
  `if(r==='paired'){console.log('octw operator pairing: operator device '+id.slice(0,12)+' paired');process.exit(0);}`,
  `if(r.startsWith('refused')){console.error('octw operator pairing: '+r);}`,
  `await new Promise((s)=>setTimeout(s,3000));}`,
  `console.error('octw operator pairing: gave up');process.exit(1);})();`,
].join('');
