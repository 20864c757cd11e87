/**
 * Template intent of the tenancy fixes of issue 8 that the AWS fake cannot enforce (IAM): the
 * Secrets function may put a fresh token version on tenant secrets (finding 1: a new generation
 * never gets the old token). (That the purge workflow may invoke it to delete a purged tenant's log
 * group, finding 9, is in purge.test.ts.) No cdk-nag here: platform-stack.test.ts runs it on the same app.
 */
import { HANDLERS } from '../../functions/handlers/catalogue';
import { asArray, functionStatements, synthPlatform, type CfnStatement } from './synth';

const { template } = synthPlatform({ nag: false });
const actionsOf = (s: CfnStatement) => asArray(s.Action);

describe('tenancy intent (issue 8)', () => {
  it('lets the Secrets function write a new gateway-token version, only on tenant secrets', () => {
    const puts = functionStatements(template, 'Secrets').filter((s) => actionsOf(s).includes('secretsmanager:PutSecretValue'));
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]?.Resource)).toContain(':secret:octw/tenants/');
    for (const key of Object.keys(HANDLERS).filter((k) => k !== 'Secrets')) {
      expect(functionStatements(template, key).flatMap(actionsOf)).not.toContain('secretsmanager:PutSecretValue');
    }
  });
});
