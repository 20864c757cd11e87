import { HANDLERS, type EnvVar } from '../../functions/handlers/catalogue';
import { loadEnv } from '../../functions/shared/env';
import { ALL_ENV_VARS } from '../../functions/shared/env-vars';
import { applyHandlerEnv, handlerEnv, LOCAL_CELL } from '../local-cloud/env';

const ALL_KEYS = [...new Set(Object.values(HANDLERS).flatMap((h) => h.env))] as EnvVar[];

describe('local cell handler environment', () => {
  it('gives every variable the handlers require a value their own env parser accepts', () => {
    const env = handlerEnv({ tableName: 'octw-tenants-test' });
    const parsed = loadEnv(ALL_KEYS.map((k) => ALL_ENV_VARS[k]), env);
    expect(parsed.TABLE_NAME).toBe('octw-tenants-test');
    expect(parsed.PLANS_JSON.map((p) => [p.id, p.cpu, p.memoryMiB, p.bedrockModels.length, p.maxAllowlistRules])).toEqual([
      ['standard', 1024, 2048, 1, 10],
      ['pro', 2048, 4096, 2, 20],
      ['offline', 1024, 2048, 0, 10],
    ]);
    expect(parsed.SUBNET_IDS).toEqual([...LOCAL_CELL.subnetIds]);
    expect(parsed.PROVISION_STATE_MACHINE_ARN).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:ProvisionTenant');
  });

  it('applies overrides, sets process.env, and restores the previous values', () => {
    const before = process.env.GATEWAY_WAIT_SECONDS;
    const restore = applyHandlerEnv({ tableName: 't-1', overrides: { GATEWAY_WAIT_SECONDS: '5' } });
    expect(process.env.GATEWAY_WAIT_SECONDS).toBe('5');
    expect(process.env.TABLE_NAME).toBe('t-1');
    restore();
    expect(process.env.GATEWAY_WAIT_SECONDS).toBe(before);
    expect(process.env.TABLE_NAME).toBeUndefined();
  });
});
