/** octw configuration: names derived from the cell match the names the CDK app gives the platform. */
import { STATE_MACHINES, type StateMachineKey } from '../../functions/handlers/catalogue';
import { kebab, resolveConfig } from '../../infra/cli/config';
import { parseConfig } from '../../infra/config';
import { stateMachineName } from '../../infra/constructs/workflows';

const KEYS = Object.keys(STATE_MACHINES) as StateMachineKey[];
const noRegion = () => Promise.reject(new Error('region must not be resolved'));

describe('octw configuration', () => {
  it('derives table, bus and state machine names from --cell exactly as the CDK app names them', async () => {
    const platform = parseConfig({ cellId: 'cell-7' });
    const config = resolveConfig({ cell: 'cell-7', account: '111122223333', region: 'eu-west-1' }, {});
    expect(config.tableName()).toBe(platform.tableName);
    expect(config.eventBusName()).toBe(platform.eventBusName);
    for (const key of KEYS) {
      expect(await config.stateMachineArn(key, noRegion)).toBe(
        `arn:aws:states:eu-west-1:111122223333:stateMachine:${stateMachineName(platform.prefix, key)}`,
      );
    }
  });

  it('appends the kebab-case name to OCTW_STATE_MACHINE_ARN_PREFIX', async () => {
    const config = resolveConfig({}, { OCTW_STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:eu-west-1:111122223333:stateMachine:octw-cell-1-' });
    expect(await config.stateMachineArn('DeprovisionTenant', noRegion)).toBe(
      'arn:aws:states:eu-west-1:111122223333:stateMachine:octw-cell-1-deprovision-tenant',
    );
    expect(kebab('ProvisionTenant')).toBe('provision-tenant');
  });

  it('fills a {key} template with the catalogue key (the local cloud names its machines so)', async () => {
    const config = resolveConfig({}, { OCTW_STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:us-east-1:123456789012:stateMachine:{key}' });
    expect(await config.stateMachineArn('SuspendTenant', noRegion)).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:SuspendTenant');
  });

  it('prefers flags over environment variables', () => {
    const config = resolveConfig({ table: 'from-flag', eventBus: 'bus-flag' }, { OCTW_TABLE: 'from-env', OCTW_EVENT_BUS: 'bus-env', OCTW_CELL: 'cell-2' });
    expect(config.tableName()).toBe('from-flag');
    expect(config.eventBusName()).toBe('bus-flag');
  });

  it('asks the SDK for the region only when none is configured', async () => {
    const config = resolveConfig({ cell: 'cell-1', account: '111122223333' }, {});
    expect(await config.stateMachineArn('ResumeTenant', () => Promise.resolve('ap-southeast-2'))).toBe(
      'arn:aws:states:ap-southeast-2:111122223333:stateMachine:octw-cell-1-resume-tenant',
    );
  });

  it('uses the platform default event source for signups unless told otherwise', () => {
    expect(resolveConfig({}, {}).signupSource()).toBe(parseConfig({}).signupSource);
    expect(resolveConfig({}, { OCTW_SIGNUP_SOURCE: 'octw.signup' }).signupSource()).toBe('octw.signup');
  });
});
