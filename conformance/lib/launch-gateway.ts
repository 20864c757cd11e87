/**
 * Starts the real OpenClaw gateway from a registered ECS task definition, as Fargate would run it,
 * without a container engine. Used by the conformance suite and by the local cloud's fake ECS
 * (`--real-gateway`). Needs root (network and mount namespaces, bindfs, iptables) and the pinned
 * installs (`bash conformance/install.sh`).
 *
 * What is emulated, per task:
 *  - its own network namespace (`ip netns`): loopback, plus an interface holding the task's
 *    address and a default route into nothing (a veth whose peer is down), so every connection
 *    attempt beyond the namespace leaves a packet an iptables rule counts and drops; DNS goes to a
 *    recorder on a namespace-local address (resolv.conf) that logs each query and refuses it.
 *    Several tasks run at once, each on the same port.
 *  - its own mount namespace per container: the task definition's volumes bind-mounted at their
 *    containerPaths (task-local volumes are fresh root-owned directories, as Fargate's are), the
 *    EFS volume presented through bindfs as the access point presents it (every file owned by the
 *    PosixUser uid/gid, new files created as that uid/gid), the image's /app (the pinned OpenClaw
 *    package folder, read-only), and the root file system remounted read-only when the container
 *    says `readonlyRootFilesystem`.
 *  - the container's user (`setpriv --reuid/--regid --clear-groups`), its capabilities (bounding
 *    set = ECS's default minus `drop` plus `add`; `ALL` drops all), its environment (image env +
 *    `environment` + `secrets` resolved as ECS does, into env vars), its working directory, its
 *    entryPoint + command, and `dependsOn: SUCCESS` (the init container runs to exit 0 first).
 *  - the health check: `runHealthCheck()` runs the task definition's own health-check command in
 *    the gateway container's context.
 * Not emulated: the image itself (the package set is the one image/Dockerfile installs, the OS is
 * this host's), PID namespace and tini (`initProcessEnabled`), cgroup CPU/memory limits, seccomp,
 * /proc, /sys and /dev (the host's), the ECS agent's log driver (stdout/stderr go to files), and
 * IAM (the task role is not available: no AWS credentials exist in the namespace).
 * Creates empty directories on the host for the containerPaths (e.g. /octw/config, /app,
 * /home/node/.openclaw) as mount points; nothing is written into them on the host.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CONFORMANCE_DIR, NODE_BIN, NODE_INSTALL_DIR, OPENCLAW_APP_DIR, assertInstalled } from './paths';

const exec = promisify(execFile);

/** The parts of an ECS ContainerDefinition the launcher reads (SDK shapes fit: every field optional). */
export interface ContainerLike {
  name?: string;
  essential?: boolean;
  command?: string[];
  entryPoint?: string[];
  workingDirectory?: string;
  user?: string;
  readonlyRootFilesystem?: boolean;
  linuxParameters?: { capabilities?: { drop?: string[]; add?: string[] }; initProcessEnabled?: boolean };
  environment?: { name?: string; value?: string }[];
  secrets?: { name?: string; valueFrom?: string }[];
  mountPoints?: { sourceVolume?: string; containerPath?: string; readOnly?: boolean }[];
  portMappings?: { containerPort?: number }[];
  dependsOn?: { containerName?: string; condition?: string }[];
  healthCheck?: { command?: string[]; timeout?: number };
  stopTimeout?: number;
}

/** The parts of an ECS RegisterTaskDefinition input the launcher reads. */
export interface TaskDefinitionLike {
  family?: string;
  containerDefinitions?: ContainerLike[];
  volumes?: { name?: string; efsVolumeConfiguration?: { fileSystemId?: string; authorizationConfig?: { accessPointId?: string } } }[];
}

export interface LaunchOptions {
  /** Secret values, keyed by the secret's `valueFrom` (ARN) or by the env var `name`, as ECS resolves them. */
  secrets: Record<string, string>;
  /** The access point's PosixUser: the EFS volume presents every file as this uid/gid. */
  posixUser: { uid: number; gid: number };
  /** Backing directory of the access point's root directory; persists across tasks of one tenant. Default `<workDir>/efs`. */
  efsDir?: string;
  /** Logs, task-local volumes, sockets. Default `/var/tmp/octw-gateways/<id>` (not under /tmp: the task's /tmp is mounted over it). */
  workDir?: string;
  /** Unique per running task (namespace name). Default random. */
  id?: string;
  /** Start the OpenAI-compatible model stub (model-stub.mjs) on these loopback ports inside the namespace. */
  modelStubPorts?: number[];
  /**
   * Listeners on the namespace's loopback that forward to Unix sockets the host serves
   * (unix-forward.mjs): the task's only route out, e.g. to the egress proxy (issue 10), as the
   * tenant security group allows egress only to the proxy's load balancer. Started before the gateway.
   */
  hostForwards?: { port: number; socketPath: string }[];
  /**
   * The address connections through the bridge come from, as the gateway sees them: with ingress,
   * a load balancer node's address in the ingress subnets (gateway.trustedProxies), so the
   * X-Forwarded-For the local ingress adds is attributed as the ALB's is. Added to eth0 as a /32.
   * Default: the task's own address.
   */
  bridgeSourceAddress?: string;
  /**
   * Names the task resolves without a DNS query, as the VPC resolver answers the cell's private zone
   * (e.g. the egress proxy's name `proxy.<cell>.octw.internal` -> the loopback end of a host forward):
   * written to the namespace's /etc/hosts (`ip netns exec` mounts /etc/netns/<ns>/hosts over it),
   * with localhost. Default: none (the host's /etc/hosts).
   */
  hosts?: Record<string, string>;
  /** Env vars the image sets (Dockerfile ENV). Default: IMAGE_ENV. */
  imageEnv?: Record<string, string>;
  /**
   * false: prepare the task (namespace, volumes, init containers) but do not start the gateway;
   * use exec() to run OpenClaw's CLI in the gateway container's context. Default true.
   */
  startGateway?: boolean;
  /** stop() also removes workDir (a caller-given efsDir outside it is kept). Default false: logs stay for reading. */
  removeWorkDirOnStop?: boolean;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ProbeResult {
  ok: boolean;
  status?: number;
  body?: unknown;
}

export interface GatewayHandle {
  id: string;
  netns: string;
  /** The port inside the namespace (the container port). */
  port: number;
  /** The task's address inside its namespace (the ENI address). */
  address: string;
  workDir: string;
  /** Host path of the access point's backing directory (what EFS stores, as stored). */
  efsDir: string;
  /** Host path of the gateway's stdout+stderr. */
  logFile: string;
  /** Host path of the model stub's request log (one JSON line per request). */
  modelStubLog: string;
  pid: number;
  /** GET /healthz; ok = HTTP 200 and body.ok === true (the Control UI catch-all answers 200 too). */
  health(): Promise<ProbeResult>;
  /** GET /readyz; ok = HTTP 200 and body.ready === true. */
  ready(): Promise<ProbeResult>;
  /** Polls health() until ok; resolves with the milliseconds since launch, rejects after budgetMs or if the process exits. */
  waitHealthy(budgetMs: number): Promise<number>;
  /** Runs the task definition's own health-check command in the gateway container's context; true = exit 0. */
  runHealthCheck(): Promise<boolean>;
  /** An HTTP request to the gateway, from a client on the task's network (not loopback). */
  fetch(path: string, init?: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number }): Promise<Response>;
  /** Runs argv in the gateway container's context (its user, env, mounts, namespace), like `ecs execute-command`. */
  exec(argv: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** DNS queries the task made (name and type), as its resolver recorded them; each is refused. */
  dnsQueries(): { name: string; type: string }[];
  /** Packets that tried to leave the namespace, by kind: dns, tcp-connect (SYNs), tcp-other, udp-other, other, kernel-icmpv6. */
  outboundByKind(): Promise<Record<string, number>>;
  /** Outbound attempts: packets that tried to leave the namespace (IPv4 + IPv6; the kernel's own IPv6 neighbour discovery excluded) plus DNS queries. */
  outboundAttempts(): Promise<number>;
  logs(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after the container's stopTimeout; tears down namespace and mounts. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Where a container finds the pinned Node: the install is bind-mounted here in every container's
 * mount namespace, as the image has its Node at a fixed path. (The host path of the install cannot
 * be used: a container's task-local /tmp volume hides it when the repository lives under /tmp.)
 */
export const IMAGE_NODE_DIR = '/opt/octw-node';

/** What image/Dockerfile sets with ENV (PATH points at the pinned Node here). */
export const IMAGE_ENV: Readonly<Record<string, string>> = {
  PATH: `${IMAGE_NODE_DIR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
  HOME: '/home/node',
  NODE_ENV: 'production',
};

/** Where the image has its application (WORKDIR of image/Dockerfile). */
export const IMAGE_APP_DIR = '/app';

/** Linux capabilities Docker/ECS grant by default; `drop`/`add` apply to this set. */
const DEFAULT_CAPS = [
  'chown', 'dac_override', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'net_bind_service', 'net_raw', 'sys_chroot', 'mknod', 'audit_write', 'setfcap',
];

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function sh(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await exec(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

function parseUser(user: string | undefined): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '0');
  if (!m) throw new Error(`container user "${user}" is not numeric uid[:gid]: the launcher (and Fargate without /etc/passwd entries) needs numbers`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

/** setpriv arguments for a container's user and capabilities. */
export function setprivArgs(c: ContainerLike): string[] {
  const { uid, gid } = parseUser(c.user);
  const drop = (c.linuxParameters?.capabilities?.drop ?? []).map((x) => x.toLowerCase());
  const add = (c.linuxParameters?.capabilities?.add ?? []).map((x) => x.toLowerCase().replace(/^cap_/, ''));
  const kept = drop.includes('all') ? [] : DEFAULT_CAPS.filter((x) => !drop.map((d) => d.replace(/^cap_/, '')).includes(x));
  const caps = [...new Set([...kept, ...add])];
  const bounding = ['-all', ...caps.map((x) => `+${x}`)].join(',');
  const args = [`--bounding-set=${bounding}`, '--inh-caps=-all'];
  if (uid !== 0 || gid !== 0) args.push(`--regid=${gid}`, `--reuid=${uid}`, '--clear-groups');
  return args;
}

interface Prepared {
  hostDirOf: (volume: string) => string;
}

/** The shell that sets up one container's mount namespace, then execs its process as its user. */
export function containerScript(c: ContainerLike, p: Prepared, argv: string[]): string {
  const lines = ['set -e', 'mount --make-rprivate /'];
  const mounts = (c.mountPoints ?? []).map((m) => {
    if (!m.sourceVolume || !m.containerPath) throw new Error(`container ${c.name}: mount point without sourceVolume/containerPath`);
    return { src: p.hostDirOf(m.sourceVolume), dst: m.containerPath, ro: m.readOnly === true };
  });
  // The image's application directory (read-only: it is an image layer).
  mounts.unshift({ src: OPENCLAW_APP_DIR, dst: IMAGE_APP_DIR, ro: true }, { src: NODE_INSTALL_DIR, dst: IMAGE_NODE_DIR, ro: true });
  // Mount targets that cover a later source (e.g. /tmp) go last.
  mounts.sort((a, b) => Number(mounts.some((m) => m.src.startsWith(`${a.dst}/`))) - Number(mounts.some((m) => m.src.startsWith(`${b.dst}/`))));
  for (const m of mounts) {
    lines.push(`mount --bind ${q(m.src)} ${q(m.dst)}`);
    if (m.ro) lines.push(`mount -o remount,bind,ro ${q(m.dst)}`);
  }
  if (c.readonlyRootFilesystem) lines.push('mount -o remount,bind,ro /');
  lines.push(`cd ${q(c.workingDirectory ?? '/')}`);
  lines.push(`exec setpriv ${setprivArgs(c).map(q).join(' ')} -- ${argv.map(q).join(' ')}`);
  return lines.join('\n');
}

function containerEnv(c: ContainerLike, imageEnv: Record<string, string>, secrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...imageEnv };
  for (const kv of c.environment ?? []) if (kv.name) env[kv.name] = kv.value ?? '';
  for (const s of c.secrets ?? []) {
    if (!s.name) continue;
    const v = (s.valueFrom !== undefined ? secrets[s.valueFrom] : undefined) ?? secrets[s.name];
    // ECS fails the task when a secret cannot be resolved; so does the launcher.
    if (v === undefined) throw new Error(`container ${c.name}: secret ${s.name} (${s.valueFrom}) has no value in opts.secrets`);
    env[s.name] = v;
  }
  return env;
}

function argvOf(c: ContainerLike): string[] {
  const argv = [...(c.entryPoint ?? []), ...(c.command ?? [])];
  if (argv.length === 0) throw new Error(`container ${c.name} has neither entryPoint nor command (the image's default is not emulated)`);
  return argv;
}

let subnetCounter = 0;

const EGRESS_CHAIN = 'OCTW_EGRESS';
const KERNEL_ICMPV6 = 'kernel-icmpv6';
/** Counted (and dropped) kinds of outbound packets, in rule order. */
const EGRESS_KINDS: readonly (readonly [string, string[]])[] = [
  ['dns', ['-p', 'udp', '--dport', '53']],
  ['tcp-connect', ['-p', 'tcp', '--syn']],
  ['tcp-other', ['-p', 'tcp']],
  ['udp-other', ['-p', 'udp']],
  ['other', []],
];

export async function launchGateway(td: TaskDefinitionLike, opts: LaunchOptions): Promise<GatewayHandle> {
  assertInstalled();
  const containers = td.containerDefinitions ?? [];
  const gateway = containers.find((c) => c.essential !== false && (c.portMappings?.length ?? 0) > 0);
  if (!gateway) throw new Error('task definition has no essential container with a port mapping');
  const port = gateway.portMappings?.[0]?.containerPort;
  if (!port) throw new Error('gateway container has no containerPort');
  const initNames = (gateway.dependsOn ?? []).filter((d) => d.condition === 'SUCCESS' || d.condition === 'COMPLETE').map((d) => d.containerName);
  const inits = containers.filter((c) => initNames.includes(c.name));

  const id = opts.id ?? randomBytes(4).toString('hex');
  if (!/^[a-zA-Z0-9_-]{1,40}$/.test(id)) throw new Error(`id "${id}" must be 1-40 of [a-zA-Z0-9_-]`);
  const netns = `octw-${id}`;
  const workDir = opts.workDir ?? join('/var/tmp/octw-gateways', id);
  const efsDir = opts.efsDir ?? join(workDir, 'efs');
  const stateMount = join(workDir, 'efs-mount');
  const logFile = join(workDir, 'gateway.log');
  const modelStubLog = join(workDir, 'model-stub.log');
  const dnsLog = join(workDir, 'dns-queries.log');
  const socketPath = join(workDir, 'gateway.sock');
  // One /24 per running task inside its own namespace (addresses may repeat across namespaces; the counter only helps reading logs).
  const octet = (subnetCounter++ % 250) + 1;
  const address = `10.77.${octet}.2`;
  const resolvDir = join('/etc/netns', netns);
  const imageEnv = opts.imageEnv ?? { ...IMAGE_ENV };
  const started = Date.now();

  const children: ChildProcess[] = [];
  let mounted = false;
  let netnsCreated = false;
  let stopped: Promise<void> | undefined;

  const teardown = async () => {
    for (const ch of children) if (ch.pid && ch.exitCode === null && ch.signalCode === null) try { process.kill(-ch.pid, 'SIGKILL'); } catch { /* gone */ }
    if (mounted) await sh('umount', ['-l', stateMount]).catch(() => undefined);
    mounted = false;
    if (netnsCreated) await sh('ip', ['netns', 'del', netns]).catch(() => undefined);
    netnsCreated = false;
    rmSync(resolvDir, { recursive: true, force: true });
  };
  const removeWorkDir = () => {
    // Only after the bindfs mount is gone: never recurse into a mounted access point.
    if (opts.removeWorkDirOnStop && !mounted) rmSync(workDir, { recursive: true, force: true });
  };

  try {
    // --- volumes
    mkdirSync(workDir, { recursive: true });
    const volumeDirs = new Map<string, string>();
    for (const v of td.volumes ?? []) {
      if (!v.name) continue;
      if (v.efsVolumeConfiguration) {
        // The access point's root directory (CreationInfo owner = PosixUser, 0700), presented through bindfs.
        mkdirSync(efsDir, { recursive: true, mode: 0o700 });
        mkdirSync(stateMount, { recursive: true });
        await sh('chown', [`${opts.posixUser.uid}:${opts.posixUser.gid}`, efsDir]);
        await sh('bindfs', [
          `--force-user=${opts.posixUser.uid}`, `--force-group=${opts.posixUser.gid}`,
          `--create-for-user=${opts.posixUser.uid}`, `--create-for-group=${opts.posixUser.gid}`,
          '-o', 'allow_other', efsDir, stateMount,
        ]);
        mounted = true;
        volumeDirs.set(v.name, stateMount);
      } else {
        // A fresh task-local volume, root-owned 0755 like Fargate's.
        const d = join(workDir, 'volumes', v.name);
        rmSync(d, { recursive: true, force: true });
        mkdirSync(d, { recursive: true, mode: 0o755 });
        volumeDirs.set(v.name, d);
      }
    }
    const prepared: Prepared = {
      hostDirOf: (name) => {
        const d = volumeDirs.get(name);
        if (!d) throw new Error(`mount point names volume "${name}", which the task definition does not declare`);
        return d;
      },
    };
    for (const c of [...inits, gateway]) for (const m of c.mountPoints ?? []) if (m.containerPath) mkdirSync(m.containerPath, { recursive: true });
    mkdirSync(IMAGE_APP_DIR, { recursive: true });
    mkdirSync(IMAGE_NODE_DIR, { recursive: true });

    // --- network namespace
    await sh('ip', ['netns', 'add', netns]);
    netnsCreated = true;
    const ipn = (...args: string[]) => sh('ip', ['-n', netns, ...args]);
    await ipn('link', 'set', 'lo', 'up');
    // A veth pair whose both ends stay in the namespace: eth0 is the task's "ENI"; its peer is down,
    // so nothing sent there goes anywhere (and iptables drops it first anyway).
    await ipn('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer');
    await ipn('addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ipn('-6', 'addr', 'add', 'fd77::2/64', 'dev', 'eth0', 'nodad');
    if (opts.bridgeSourceAddress) {
      if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(opts.bridgeSourceAddress)) throw new Error(`bridgeSourceAddress ${opts.bridgeSourceAddress} is not an IPv4 address`);
      await ipn('addr', 'add', `${opts.bridgeSourceAddress}/32`, 'dev', 'eth0');
    }
    await ipn('link', 'set', 'eth0', 'up');
    await ipn('route', 'add', 'default', 'via', `10.77.${octet}.1`);
    await ipn('-6', 'route', 'add', 'default', 'via', 'fd77::1');
    for (const ipt of ['iptables', 'ip6tables']) {
      const rule = (...args: string[]) => sh('ip', ['netns', 'exec', netns, ipt, '-w', ...args]);
      await rule('-N', EGRESS_CHAIN);
      await rule('-A', 'OUTPUT', '!', '-o', 'lo', '-j', EGRESS_CHAIN);
      // The kernel's own IPv6 neighbour discovery / MLD on the interface is not the gateway's doing.
      if (ipt === 'ip6tables') await rule('-A', EGRESS_CHAIN, '-p', 'icmpv6', '-m', 'comment', '--comment', KERNEL_ICMPV6, '-j', 'DROP');
      for (const [kind, match] of EGRESS_KINDS) await rule('-A', EGRESS_CHAIN, ...match, '-m', 'comment', '--comment', kind, '-j', 'DROP');
    }
    // The namespace's resolver: a recorder on a loopback-only address that logs each query and refuses it.
    const resolver = `10.77.${octet}.53`;
    await ipn('addr', 'add', `${resolver}/32`, 'dev', 'lo');
    mkdirSync(resolvDir, { recursive: true });
    writeFileSync(join(resolvDir, 'resolv.conf'), `nameserver ${resolver}\noptions attempts:1 timeout:1\n`);
    if (opts.hosts) {
      for (const [name, ip] of Object.entries(opts.hosts)) {
        if (!/^[a-z0-9.-]+$/i.test(name) || !/^[0-9a-f.:]+$/i.test(ip)) throw new Error(`hosts entry ${name} -> ${ip} is not a host name and an address`);
      }
      writeFileSync(join(resolvDir, 'hosts'), ['127.0.0.1 localhost', '::1 localhost', ...Object.entries(opts.hosts).map(([name, ip]) => `${ip} ${name}`)].join('\n') + '\n');
    }
    writeFileSync(dnsLog, '');
    const dns = spawn('ip', ['netns', 'exec', netns, NODE_BIN, join(CONFORMANCE_DIR, 'lib', 'dns-recorder.mjs'), resolver, dnsLog], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(dns);
    await waitForLine(dns, 'listening', 30_000, 'dns recorder');

    // --- model stubs (loopback, inside the namespace)
    for (const p of opts.modelStubPorts ?? []) {
      const stub = spawn('ip', ['netns', 'exec', netns, NODE_BIN, join(CONFORMANCE_DIR, 'lib', 'model-stub.mjs'), String(p), modelStubLog], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(stub);
      await waitForLine(stub, 'listening', 30_000, 'model stub');
    }

    // --- forwards from the namespace's loopback to host Unix sockets (e.g. the egress proxy)
    for (const f of opts.hostForwards ?? []) {
      const fw = spawn('ip', ['netns', 'exec', netns, NODE_BIN, join(CONFORMANCE_DIR, 'lib', 'unix-forward.mjs'), String(f.port), f.socketPath], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(fw);
      await waitForLine(fw, 'forward ready', 30_000, 'host forward');
    }

    // --- init containers (dependsOn SUCCESS)
    for (const c of inits) {
      const initLog = join(workDir, `${c.name ?? 'init'}.log`);
      const fd = openSync(initLog, 'w');
      const p = spawn('ip', ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', containerScript(c, prepared, argvOf(c))], {
        env: containerEnv(c, imageEnv, opts.secrets),
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      closeSync(fd);
      children.push(p);
      const code = await new Promise<number | null>((res) => p.on('exit', (cd) => res(cd)));
      if (code !== 0) throw new Error(`container ${c.name} exited ${code} (dependsOn SUCCESS not met): ${readFileSync(initLog, 'utf8').slice(-2000)}`);
    }

    // --- the gateway
    const gwEnv = containerEnv(gateway, imageEnv, opts.secrets);
    const runInGateway = (argv: string[], stdio: 'ignore' | 'pipe' | number) =>
      spawn('ip', ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', containerScript(gateway, prepared, argv)], {
        env: gwEnv,
        stdio: stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : ['ignore', stdio, stdio],
        detached: true,
      });
    let gw: ChildProcess | undefined;
    let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });
    let hasExited = true;
    if (opts.startGateway !== false) {
      const fd = openSync(logFile, 'w');
      const p = runInGateway(argvOf(gateway), fd);
      closeSync(fd);
      children.push(p);
      gw = p;
      hasExited = false;
      exited = new Promise((res) => p.on('exit', (code, signal) => res({ code, signal })));
      void exited.then(() => { hasExited = true; });

      // --- the bridge: host (Unix socket) -> the task's address inside the namespace
      const bridge = spawn('ip', ['netns', 'exec', netns, NODE_BIN, join(CONFORMANCE_DIR, 'lib', 'tcp-bridge.mjs'), socketPath, address, String(port), ...(opts.bridgeSourceAddress ? [opts.bridgeSourceAddress] : [])], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(bridge);
      await waitForLine(bridge, 'bridge ready', 30_000, 'bridge');
    }

    const doFetch: GatewayHandle['fetch'] = (path, init = {}) =>
      new Promise((resolve, reject) => {
        const req = request({ socketPath, path, method: init.method ?? 'GET', headers: { host: `${address}:${port}`, ...(init.headers ?? {}) }, timeout: init.timeoutMs ?? 10_000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
            const body = [204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
            resolve(new Response(body, { status, headers }));
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`request ${path} timed out`)));
        req.on('error', reject);
        if (init.body !== undefined) req.write(init.body);
        req.end();
      });

    const probe = async (path: string, key: 'ok' | 'ready'): Promise<ProbeResult> => {
      try {
        const res = await doFetch(path, { timeoutMs: 5_000 });
        const text = await res.text();
        let body: unknown = text;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        const ok = res.status === 200 && typeof body === 'object' && body !== null && (body as Record<string, unknown>)[key] === true;
        return { ok, status: res.status, body };
      } catch {
        return { ok: false };
      }
    };

    const handle: GatewayHandle = {
      id,
      netns,
      port,
      address,
      workDir,
      efsDir,
      logFile,
      modelStubLog,
      pid: gw?.pid ?? -1,
      health: () => probe('/healthz', 'ok'),
      ready: () => probe('/readyz', 'ready'),
      async waitHealthy(budgetMs) {
        const deadline = Date.now() + budgetMs;
        for (;;) {
          if (hasExited) throw new Error(`gateway exited before it was healthy: ${JSON.stringify(await exited)}\n${tail(logFile)}`);
          if ((await handle.health()).ok) return Date.now() - started;
          if (Date.now() > deadline) throw new Error(`gateway not healthy within ${budgetMs} ms\n${tail(logFile)}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      },
      async runHealthCheck() {
        const cmd = gateway.healthCheck?.command ?? [];
        const argv = cmd[0] === 'CMD' ? cmd.slice(1) : cmd[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', cmd.slice(1).join(' ')] : cmd;
        if (argv.length === 0) throw new Error('the gateway container has no health check');
        const p = runInGateway(argv, 'ignore');
        const timeoutMs = (gateway.healthCheck?.timeout ?? 5) * 1000 + 10_000; // + node start-up on a loaded host
        const timer = setTimeout(() => { try { process.kill(-(p.pid ?? 0), 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
        const code = await new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
        clearTimeout(timer);
        return code === 0;
      },
      fetch: doFetch,
      exec(argv, execOpts = {}) {
        const p = runInGateway(argv, 'pipe');
        let stdout = '';
        let stderr = '';
        p.stdout?.on('data', (c: Buffer) => { stdout += c.toString(); });
        p.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
        const timer = setTimeout(() => { try { process.kill(-(p.pid ?? 0), 'SIGKILL'); } catch { /* gone */ } }, execOpts.timeoutMs ?? 300_000);
        return new Promise((res) => p.on('close', (code) => { clearTimeout(timer); res({ code, stdout, stderr }); }));
      },
      async outboundByKind() {
        const counts: Record<string, number> = {};
        for (const ipt of ['iptables', 'ip6tables']) {
          const out = await sh('ip', ['netns', 'exec', netns, ipt, '-w', '-L', EGRESS_CHAIN, '-v', '-x', '-n']);
          for (const line of out.split('\n')) {
            const m = /^\s*(\d+)\s+\d+\s+DROP\b.*\/\* (\S+) \*\//.exec(line);
            if (m) counts[m[2]!] = (counts[m[2]!] ?? 0) + Number(m[1]);
          }
        }
        return counts;
      },
      dnsQueries: () =>
        (existsSync(dnsLog) ? readFileSync(dnsLog, 'utf8') : '')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { name: string; type: string }),
      async outboundAttempts() {
        const counts = await handle.outboundByKind();
        return Object.entries(counts).reduce((n, [k, v]) => (k === KERNEL_ICMPV6 ? n : n + v), 0) + handle.dnsQueries().length;
      },
      logs: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
      exited,
      stop() {
        stopped ??= (async () => {
          const pid = gw?.pid;
          if (!hasExited && pid) {
            try { process.kill(-pid, 'SIGTERM'); } catch { /* gone */ }
            const grace = (gateway.stopTimeout ?? 30) * 1000;
            let timer: NodeJS.Timeout | undefined;
            const killed = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), grace); })]);
            clearTimeout(timer);
            if (killed) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
            await exited;
          }
          await teardown();
          removeWorkDir();
        })();
        return stopped;
      },
    };
    return handle;
  } catch (e) {
    await teardown();
    throw e;
  }
}

function tail(file: string, n = 4000): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-n) : '';
}

function waitForLine(p: ChildProcess, needle: string, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms: ${seen}`)), timeoutMs);
    p.stdout?.on('data', (c: Buffer) => {
      seen += c.toString();
      if (seen.includes(needle)) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code}: ${seen}`));
    });
  });
}
