import { ConfigurationError, loadEnv } from '../../../functions/shared/env';
import * as vars from '../../../functions/shared/env-vars';

const plan = {
  id: 'standard',
  cpu: 1024,
  memoryMiB: 2048,
  image: `ghcr.io/openclaw/openclaw@sha256:${'c'.repeat(64)}`,
  bedrockModels: ['anthropic.claude-x-v1:0'],
  plugins: ['amazon-bedrock'],
  maxAllowlistRules: 5,
};

describe('loadEnv', () => {
  it('parses only the requested variables', () => {
    const env = loadEnv([vars.TABLE_NAME, vars.SUBNET_IDS, vars.UID_BASE], {
      TABLE_NAME: 't',
      SUBNET_IDS: 'subnet-0a, subnet-0b',
      UID_BASE: '200000',
    });
    expect(env).toEqual({ TABLE_NAME: 't', SUBNET_IDS: ['subnet-0a', 'subnet-0b'], UID_BASE: 200000 });
  });

  it('fails naming every missing or malformed variable', () => {
    expect(() => loadEnv([vars.TABLE_NAME, vars.VPC_ID], { VPC_ID: 'nope' })).toThrow(ConfigurationError);
    expect(() => loadEnv([vars.TABLE_NAME, vars.VPC_ID], { VPC_ID: 'nope' })).toThrow(/TABLE_NAME.*VPC_ID/);
  });

  it('parses the plan catalogue and refuses duplicate plan ids', () => {
    expect(loadEnv([vars.PLANS_JSON], { PLANS_JSON: JSON.stringify([plan]) }).PLANS_JSON[0]?.spot).toBe(false);
    expect(() => loadEnv([vars.PLANS_JSON], { PLANS_JSON: JSON.stringify([plan, plan]) })).toThrow(/twice/);
    expect(() => loadEnv([vars.PLANS_JSON], { PLANS_JSON: '{' })).toThrow(/not valid JSON/);
  });

  it('refuses a plan image that is not pinned by digest', () => {
    expect(() => loadEnv([vars.PLANS_JSON], { PLANS_JSON: JSON.stringify([{ ...plan, image: 'ghcr.io/openclaw/openclaw:latest' }]) })).toThrow(
      /digest/,
    );
  });
});
