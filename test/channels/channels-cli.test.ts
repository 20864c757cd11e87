/**
 * octw tenants channels: input refused locally (exit 2) before any AWS call, credentials never taken
 * from the command line; and the credential reference checks of adapters/tenant-credentials.ts.
 */
import { credentialProblems, referenceName } from '../../functions/adapters/tenant-credentials';
import { noAws, runCli, tempFile } from '../cli/support';

const ENV = { OCTW_TABLE: 't', OCTW_STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:eu-west-1:111122223333:stateMachine:octw-test-' };
const cli = (...argv: string[]) => runCli(argv, ENV, { clients: noAws });

describe('octw tenants channels (refused locally)', () => {
  it('never takes a credential value on the command line', async () => {
    for (const spec of ['botToken', 'botToken=', '7000000001:AAsecret', '=./file']) {
      const r = await cli('tenants', 'channels', 'add', 'acme-co', '--type', 'telegram', '--credential', spec);
      expect({ spec, code: r.code }).toEqual({ spec, code: 2 });
      expect(r.stderr).toMatch(/FIELD=FILE or FIELD=- \(stdin\)/);
    }
  });

  it('refuses a missing or extra credential of a built-in type, an unreadable file, bad settings, and an unknown action', async () => {
    const file = tempFile('t.txt', 'x\n');
    expect((await cli('tenants', 'channels', 'add', 'acme-co', '--type', 'slack', '--credential', `botToken=${file}`)).stderr).toMatch(/slack takes --credential botToken=FILE --credential appToken=FILE|appToken/);
    expect((await cli('tenants', 'channels', 'add', 'acme-co', '--type', 'telegram', '--credential', 'botToken=/nonexistent/x')).stderr).toMatch(/cannot read/);
    expect((await cli('tenants', 'channels', 'add', 'acme-co', '--type', 'telegram', '--credential', `botToken=${file}`, '--groups', 'not-a-chat')).code).toBe(2);
    expect((await cli('tenants', 'channels', 'add', 'acme-co', '--type', 'telegram', '--credential', `botToken=${tempFile('e.txt', '\n')}`)).stderr).toMatch(/one non-empty line/);
    expect((await cli('tenants', 'channels', 'frobnicate', 'acme-co')).stderr).toMatch(/unknown command "tenants channels frobnicate"/);
    expect((await cli('tenants', 'channels', 'add', 'acme-co')).stderr).toMatch(/missing --type/);
    expect((await cli('tenants', 'channels', 'list', 'acme-co', '--credential', 'botToken=x')).code).toBe(2);
  });
});

describe('credential references', () => {
  const tenant = { cell: 'cell-1', tenantId: 'acme-co' };
  const tags = (cell: string, t: string) => [{ Key: 'octw:cell', Value: cell }, { Key: 'octw:tenant', Value: t }];

  it('reads the secret name from a name, a full ARN and a partial ARN', () => {
    expect(referenceName('octw/tenants/cell-1/acme-co/credentials/x')).toBe('octw/tenants/cell-1/acme-co/credentials/x');
    expect(referenceName('arn:aws:secretsmanager:eu-west-1:111122223333:secret:octw/tenants/cell-1/acme-co/credentials/x-AbC123')).toBe('octw/tenants/cell-1/acme-co/credentials/x');
  });

  it("accepts only the tenant's own prefix with both tags, and nothing scheduled for deletion", () => {
    expect(credentialProblems({ Name: 'octw/tenants/cell-1/acme-co/credentials/telegram-bot-token', Tags: tags('cell-1', 'acme-co') }, tenant)).toEqual([]);
    expect(credentialProblems({ Name: 'octw/tenants/cell-1/other-co/credentials/x', Tags: tags('cell-1', 'acme-co') }, tenant)).toHaveLength(1);
    expect(credentialProblems({ Name: 'octw/tenants/cell-1/acme-co/credentials/../gateway-token', Tags: tags('cell-1', 'acme-co') }, tenant)).toHaveLength(1);
    expect(credentialProblems({ Name: 'octw/tenants/cell-1/acme-co/credentials/nested/x', Tags: tags('cell-1', 'acme-co') }, tenant)).toHaveLength(1);
    expect(credentialProblems({ Name: 'octw/tenants/cell-1/acme-co/credentials/x', Tags: tags('cell-2', 'acme-co') }, tenant)).toEqual(['its tag octw:cell=cell-2']);
    expect(credentialProblems({ Name: 'octw/tenants/cell-1/acme-co/credentials/x', Tags: [] }, tenant)).toHaveLength(2);
    expect(credentialProblems({ Name: 'octw/tenants/cell-1/acme-co/credentials/x', Tags: tags('cell-1', 'acme-co'), DeletedDate: new Date() }, tenant)).toEqual(['it is scheduled for deletion']);
  });
});
