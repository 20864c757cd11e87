/**
 * octw argument and input errors: refused locally with exit 2 (or 3) before any AWS call.
 * The clients handed in throw on use, so a test fails if the CLI reaches AWS.
 */
import { USAGE } from '../../infra/cli/usage';
import { jsonError, noAws, runCli, tempFile } from './support';

const ENV = {
  OCTW_TABLE: 'octw-test-tenants',
  OCTW_STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:eu-west-1:111122223333:stateMachine:octw-test-',
  OCTW_EVENT_BUS: 'octw-test',
};
const cli = (argv: string[], env: Record<string, string> = ENV) => runCli(argv, env, { clients: noAws });

const signup = {
  tenantId: 'acme-tools',
  displayName: 'ACME Tools',
  ownerEmail: 'ops@acme-tools.example',
  plan: 'standard',
  egressAllowlist: [{ cidr: '203.0.113.0/24', ports: [443] }],
};

describe('octw usage', () => {
  it('prints the usage with exit 0 for --help, and documents every exit code and config variable', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(USAGE);
    for (const text of ['0  ok', '1  workflow', '2  usage', '3  tenant not found', '4  AWS error', 'OCTW_TABLE', 'OCTW_STATE_MACHINE_ARN_PREFIX', 'OCTW_EVENT_BUS', 'OCTW_SIGNUP_SOURCE', 'OCTW_CELL', 'AWS_ENDPOINT_URL_SFN']) {
      expect(r.stdout).toContain(text);
    }
  });

  it('prints the usage with exit 2 when no command is given', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Usage:');
  });

  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['tenants'], 'missing command after "tenants"'],
    [['tenants', 'explode', 'acme-tools'], 'unknown command "tenants explode"'],
    [['tenants', 'list', '--bogus'], "Unknown option '--bogus'"],
    [['tenants', 'list', '--immediate'], 'option --immediate does not apply to "octw tenants list"'],
    [['tenants', 'suspend', 'acme-tools', '--plan', 'pro'], 'option --plan does not apply to "octw tenants suspend"'],
    [['tenants', 'suspend', 'acme-tools', 'extra'], 'unexpected argument "extra"'],
    [['tenants', 'show'], 'missing tenant id'],
    [['tenants', 'suspend'], 'missing tenant id'],
    [['tenants', 'deprovision', '--wait'], 'missing tenant id'],
    [['tenants', 'show', 'Not_A_Tenant'], 'tenantId must be 4-32 characters'],
    [['tenants', 'resume', 'admin'], 'tenantId is a reserved word'],
    [['tenants', 'list', '--status', 'SLEEPING'], '--status "SLEEPING" is not a tenant status'],
    [['tenants', 'show', 'acme-tools', '--limit', '0'], '--limit "0" must be an integer'],
    [['tenants', 'suspend', 'acme-tools', '--poll-interval', 'soon'], '--poll-interval "soon"'],
    [['tenants', 'provision'], 'missing --file FILE'],
    [['tenants', 'update', 'acme-tools'], 'an update must change at least one of plan, egressAllowlist, hostAllowlist, image, channels, modelKeys'],
    [['tenants', 'update', 'acme-tools', '--image', 'ghcr.io/openclaw/openclaw:latest'], 'image must be pinned by digest'],
    [['tenants', 'update', 'acme-tools', '--plan', 'Gold Plan'], 'plan must be a plan id'],
    [['signup'], 'missing --file FILE'],
  ])('exits 2 for %j with a message naming the problem', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
  });

  it('reports errors as one JSON document on stderr with --json', async () => {
    const r = await cli(['tenants', 'show', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(jsonError(r)).toEqual({ name: 'UsageError', message: expect.stringContaining('missing tenant id'), exitCode: 2 });
  });
});

describe('octw input files', () => {
  it('refuses an allowlist file that does not exist', async () => {
    const r = await cli(['tenants', 'update', 'acme-tools', '--allowlist-file', '/nonexistent/allowlist.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--allowlist-file /nonexistent/allowlist.json: cannot read the file (ENOENT)');
  });

  it('refuses an allowlist file that is not JSON', async () => {
    const file = tempFile('allowlist.json', '[{"cidr": "203.0.113.0/24",');
    const r = await cli(['tenants', 'update', 'acme-tools', '--allowlist-file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not valid JSON');
  });

  it('refuses an allowlist rule the signup schema refuses, naming the rule and field', async () => {
    const file = tempFile('allowlist.json', [{ cidr: '203.0.113.0/24', ports: [443] }, { cidr: '198.51.100.0/24', ports: [70000] }]);
    const r = await cli(['tenants', 'update', 'acme-tools', '--allowlist-file', file, '--json']);
    expect(r.code).toBe(2);
    const error = jsonError(r);
    expect(error.name).toBe('ValidationError');
    expect(error.issues?.map((i) => i.path)).toContain('1.ports.0');
  });

  it('refuses an allowlist object with unknown keys', async () => {
    const file = tempFile('allowlist.json', { rules: [{ cidr: '203.0.113.0/24', ports: [443] }] });
    const r = await cli(['tenants', 'update', 'acme-tools', '--allowlist-file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--allowlist-file');
  });

  it('refuses a signup file that fails the signup schema, listing every issue', async () => {
    const file = tempFile('signup.json', { ...signup, tenantId: 'ACME', ownerEmail: 'nobody' });
    const r = await cli(['tenants', 'provision', '--file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tenantId: tenantId must be 4-32 characters');
    expect(r.stderr).toContain('ownerEmail: ownerEmail must be an email address');
  });

  it('refuses an ID argument to provision (the id comes from the signup file)', async () => {
    const file = tempFile('signup.json', signup);
    const r = await cli(['tenants', 'provision', 'acme-tools', '--file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('takes no ID');
  });

  it('refuses a signup event whose DetailType is not TenantSignedUp', async () => {
    const file = tempFile('event.json', { Source: 'octw.signup', DetailType: 'TenantDeleted', Detail: JSON.stringify(signup) });
    const r = await cli(['signup', '--file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DetailType must be "TenantSignedUp"');
  });

  it('refuses a signup event whose Detail text is not JSON', async () => {
    const file = tempFile('event.json', { DetailType: 'TenantSignedUp', Detail: '{"tenantId":' });
    const r = await cli(['signup', '--file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Detail is not valid JSON');
  });
});

describe('octw configuration', () => {
  it('refuses to run without a table, naming the flag and the variable', async () => {
    const r = await cli(['tenants', 'list'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--table or OCTW_TABLE');
  });

  it('refuses to start a workflow when no state machine ARN can be derived', async () => {
    const file = tempFile('signup.json', signup);
    const r = await cli(['tenants', 'provision', '--file', file], { OCTW_TABLE: 'octw-test-tenants' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('OCTW_STATE_MACHINE_ARN_PREFIX');
  });

  it('refuses a malformed state machine ARN prefix', async () => {
    const r = await cli(['tenants', 'list'], { OCTW_TABLE: 't', OCTW_STATE_MACHINE_ARN_PREFIX: 'octw-cell-1-' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('must start with arn:<partition>:states:');
  });

  it('refuses a cell id the platform would refuse', async () => {
    const r = await cli(['tenants', 'list', '--cell', 'Cell_1'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a cell id');
  });

  it('refuses a signup without a bus configured', async () => {
    const file = tempFile('signup.json', signup);
    const r = await cli(['signup', '--file', file], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--event-bus or OCTW_EVENT_BUS');
  });
});
