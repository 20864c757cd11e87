/**
 * The SDK modules infra/constructs/bundling.ts replaces in function bundles: the event-stream serde
 * (`@smithy/core/event-streams`, by functions/shared/no-event-streams.ts) and the JavaScript SHA-256
 * fallback (`Sha256Js`, by functions/shared/no-js-sha256.ts).
 *
 * - No command the functions import has an event-stream member (the premise of the first).
 * - The replacement touches those modules only: the same entry built without the two plugins differs
 *   only in event-stream and checksum files, and a local module that happens to be named Sha256Js
 *   is left alone.
 * - Real call paths still work from a bundle (EC2 query protocol with SigV4 signing, a Logs JSON
 *   call from a client that builds an event-stream marshaller), against a loopback server; the one
 *   event-stream operation fails with the replacement's clear error.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { NormalizedSchema } from '@smithy/core/schema';
import type { StaticOperationSchema } from '@smithy/types';
import { buildLambdaBundle, LAMBDA_ESBUILD_OPTIONS, LAMBDA_ESBUILD_PLUGINS, NO_EVENT_STREAMS, NO_JS_SHA256 } from '../../infra/constructs/bundling';

const ROOT = path.join(__dirname, '../..');
const FIXTURE = path.join(__dirname, 'fixtures/sdk-call-paths.ts');
const REPLACING = ['octw-no-event-streams', 'octw-no-js-sha256'];
const out = mkdtempSync(path.join(tmpdir(), 'octw-replace-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Inputs that put bytes into the output. */
const contributing = (meta: Metafile): Set<string> =>
  new Set(Object.values(meta.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([name]) => name)));
/** Every module esbuild read. */
const parsed = (meta: Metafile): Set<string> => new Set(Object.keys(meta.inputs));

/** A path as esbuild's metafile writes it (relative to the working directory). */
const rel = (file: string): string => path.relative(process.cwd(), file);

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourcesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('no function command has an event-stream member', () => {
  // Value imports of `…Command` from the SDK clients, in every file under functions/.
  const imported = new Map<string, Set<string>>();
  for (const file of sourcesUnder(path.join(ROOT, 'functions'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
      if (m[1]) continue;
      const names = m[2]!.split(',').map((n) => n.trim()).filter((n) => !n.startsWith('type ') && n.endsWith('Command'));
      if (!imported.has(m[3]!)) imported.set(m[3]!, new Set());
      for (const n of names) imported.get(m[3]!)!.add(n);
    }
  }
  const wiresEventStreams = (client: string) => readFileSync(require.resolve(`${client}/dist-es/runtimeConfig.js`, { paths: [ROOT] }), 'utf8').includes('@smithy/core/event-streams');

  /** An event-stream operation of each client that has them, and its streaming member. */
  const STREAMING: Record<string, [string, string]> = {
    '@aws-sdk/client-cloudwatch-logs': ['StartLiveTailCommand', 'responseStream'],
    '@aws-sdk/client-s3': ['SelectObjectContentCommand', 'Payload'],
  };

  it('finds the clients and commands the functions use', () => {
    expect(imported.get('@aws-sdk/client-ec2')).toContain('DescribeSecurityGroupsCommand');
    expect(imported.get('@aws-sdk/client-cloudwatch-logs')).toContain('CreateLogGroupCommand');
    expect(imported.size).toBeGreaterThanOrEqual(10);
  });

  it('sends no event-stream operation of the clients that have them (a client wires the event-stream serde only then)', async () => {
    const withStreams = [...imported.keys()].filter(wiresEventStreams).sort();
    expect(withStreams).toEqual(['@aws-sdk/client-cloudwatch-logs', '@aws-sdk/client-s3']);
    for (const client of withStreams) {
      const mod = (await import(client)) as Record<string, new (input: object) => { schema: StaticOperationSchema }>;
      // The check itself finds the client's own event-stream operation.
      const [streamingCommand, member] = STREAMING[client]!;
      expect(NormalizedSchema.of(new mod[streamingCommand]!({}).schema[5]).getEventStreamMember()).toBe(member);
      for (const name of imported.get(client)!) {
        const op = new mod[name]!({}).schema;
        expect([name, NormalizedSchema.of(op[4]).getEventStreamMember(), NormalizedSchema.of(op[5]).getEventStreamMember()]).toEqual([name, '', '']);
      }
    }
  });
});

describe('the replacements in a bundle', () => {
  const bundle = path.join(out, 'replaced', 'index.mjs');
  let replaced = new Set<string>();
  let original = new Set<string>();
  let replacedParsed = new Set<string>();
  let originalParsed = new Set<string>();
  let server: Server;
  const requests: { target: string; action: string; authorization: string; body: string }[] = [];

  beforeAll(async () => {
    const meta = await buildLambdaBundle(FIXTURE, bundle);
    replaced = contributing(meta);
    replacedParsed = parsed(meta);
    const plain = await build({
      ...LAMBDA_ESBUILD_OPTIONS,
      mainFields: [...LAMBDA_ESBUILD_OPTIONS.mainFields],
      external: [],
      plugins: LAMBDA_ESBUILD_PLUGINS.filter((p) => !REPLACING.includes(p.name)),
      metafile: true,
      entryPoints: [FIXTURE],
      outfile: path.join(out, 'plain', 'index.mjs'),
      logLevel: 'error',
    });
    original = contributing(plain.metafile);
    originalParsed = parsed(plain.metafile);

    const read = (req: IncomingMessage) => new Promise<string>((resolve) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => resolve(body));
    });
    server = createServer((req, res) => {
      void read(req).then((body) => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body)?.[1] ?? '';
        requests.push({ target, action, authorization: String(req.headers.authorization ?? ''), body });
        if (action === 'DescribeSecurityGroups') {
          res.writeHead(200, { 'content-type': 'text/xml' });
          res.end(
            '<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><securityGroupInfo>' +
              '<item><groupId>sg-0123456789abcdef0</groupId><groupName>octw-cell-1-t1</groupName><ownerId>123456789012</ownerId><vpcId>vpc-0a</vpcId><ipPermissions/><ipPermissionsEgress/></item>' +
              '</securityGroupInfo></DescribeSecurityGroupsResponse>',
          );
        } else if (target === 'Logs_20140328.DescribeLogGroups') {
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ logGroups: [{ logGroupName: '/octw/t1' }] }));
        } else if (target === 'Logs_20140328.StartLiveTail') {
          res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
          res.end();
        } else {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'UnknownOperationException' }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }, 120_000);
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('holds the replacements and none of the replaced files', () => {
    expect(replaced).toContain(rel(NO_EVENT_STREAMS));
    expect(replaced).toContain(rel(NO_JS_SHA256));
    expect([...replaced].filter((f) => /submodules\/event-streams\/|sha256\/Sha256Js\.js$/.test(f))).toEqual([]);
    // Built without the two plugins, the same entry has them.
    expect([...original].some((f) => f.endsWith('submodules/event-streams/EventStreamSerde.js'))).toBe(true);
    expect([...original].some((f) => f.endsWith('sha256/Sha256Js.js'))).toBe(true);
  });

  it('changes nothing else: the bundle reads the same modules but for event-stream and checksum files', () => {
    const added = [...replacedParsed].filter((f) => !originalParsed.has(f));
    const removed = [...originalParsed].filter((f) => !replacedParsed.has(f));
    expect(added.sort()).toEqual([rel(NO_EVENT_STREAMS), rel(NO_JS_SHA256)].sort());
    expect(removed.length).toBeGreaterThan(5);
    expect(removed.filter((f) => !/node_modules\/@smithy\/core\/dist-es\/submodules\/(event-streams|checksum)\//.test(f))).toEqual([]);
  });

  it('leaves a module named Sha256Js outside the SDK alone', async () => {
    const dir = path.join(out, 'local');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'Sha256Js.ts'), "export const marker = 'local Sha256Js kept';\n");
    writeFileSync(path.join(dir, 'entry.ts'), "import { marker } from './Sha256Js';\nexport const handler = () => marker;\n");
    await buildLambdaBundle(path.join(dir, 'entry.ts'), path.join(dir, 'out', 'index.mjs'));
    expect(readFileSync(path.join(dir, 'out', 'index.mjs'), 'utf8')).toContain('local Sha256Js kept');
  });

  it('calls EC2 and CloudWatch Logs from the bundle, signed, and refuses Live Tail with the clear error', async () => {
    const { port } = server.address() as AddressInfo;
    const script = `const m = await import(${JSON.stringify(`file://${bundle}`)}); process.stdout.write(JSON.stringify(await m.run(process.env.ENDPOINT)), () => process.exit(0));`; // exit: the SDK keeps its sockets alive
    const env = { PATH: process.env.PATH ?? '', ENDPOINT: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' };
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 20_000 });
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result.securityGroups).toEqual([{ id: 'sg-0123456789abcdef0', name: 'octw-cell-1-t1', vpc: 'vpc-0a' }]);
    expect(result.logGroups).toEqual(['/octw/t1']);
    expect(result.liveTail).toEqual({ name: 'EventStreamsNotBundledError', message: expect.stringContaining('AWS SDK event streams are not in this function bundle') });
    const ec2 = requests.find((r) => r.action === 'DescribeSecurityGroups');
    expect(ec2?.body).toContain('GroupId.1=sg-0123456789abcdef0');
    // SigV4 with SHA-256 from Node's crypto: the JavaScript fallback is not in the bundle.
    for (const r of requests) expect(r.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/(ec2|logs)\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
    expect(requests.map((r) => r.action || r.target)).toEqual(['DescribeSecurityGroups', 'Logs_20140328.DescribeLogGroups', 'Logs_20140328.StartLiveTail']);
  });
});
