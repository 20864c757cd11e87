/**
 * Template intent of the tenancy fixes of issue 8 that the AWS fake cannot enforce (IAM): the
 * Secrets function may put a fresh token version on tenant secrets (finding 1: a new generation
 * never gets the old token), and the purge workflow may invoke it to delete a purged tenant's log
 * group (finding 9). No cdk-nag here: platform-stack.test.ts runs it on the same app.
 */
import { HANDLERS, STATE_MACHINES } from '../../functions/handlers/catalogue';
import { parseConfig } from '../../infra/config';
import { kebab } from '../../infra/constructs/workflows';
import { allStatements, asArray, cdkJsonContext, functionStatements, synthPlatform, type CfnStatement } from './synth';

const { template } = synthPlatform({ nag: false });
const config = parseConfig(cdkJsonContext());
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

  it('lets the purge workflow invoke the Secrets function, which deletes a purged tenant\'s log group', () => {
    expect(STATE_MACHINES.PurgeTenant.handlers).toContain('Secrets');
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const purge = Object.values(machines).find(
      (m) => (m as { Properties: { StateMachineName: string } }).Properties.StateMachineName === `${config.prefix}-${kebab('PurgeTenant')}`,
    ) as { Properties: { DefinitionSubstitutions: Record<string, unknown> } } | undefined;
    expect(Object.keys(purge?.Properties.DefinitionSubstitutions ?? {})).toContain('SecretsFunctionArn');
    const invoke = allStatements(template).filter(({ statement }) => actionsOf(statement).includes('lambda:InvokeFunction'));
    const secretsInvokers = invoke.filter(({ statement }) => JSON.stringify(statement.Resource).includes('SecretsFunction'));
    expect(secretsInvokers.some(({ logicalId }) => logicalId.startsWith('WorkflowsPurgeTenantRole') || logicalId.includes('PurgeTenantRole'))).toBe(true);
  });
});
