/**
 * `cdk synth` with the real CLI, as a newcomer or CI runs it: offline, with no AWS credentials and
 * no account or region, bundling every Lambda with local esbuild and running cdk-nag.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATE_MACHINES } from '../../functions/handlers/catalogue';

const ROOT = join(__dirname, '../..');

it('synthesizes the platform offline without credentials', () => {
  const out = mkdtempSync(join(tmpdir(), 'octw-synth-'));
  try {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|CDK_DEFAULT_)/.test(k)) env[k] = v;
    env.AWS_EC2_METADATA_DISABLED = 'true';
    env.CDK_DISABLE_CLI_TELEMETRY = 'true';
    env.PATH = `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`;
    execFileSync(join(ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--no-notices', '--output', out], {
      cwd: ROOT,
      env,
      stdio: 'pipe',
      timeout: 240_000,
    });
    const templateFile = readdirSync(out).find((f) => f.endsWith('.template.json'));
    expect(templateFile).toBe('Octw-cell-1.template.json');
    const template = JSON.parse(readFileSync(join(out, templateFile!), 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::StepFunctions::StateMachine')).toHaveLength(Object.keys(STATE_MACHINES).length);
    // Every function's code is an asset bundled by esbuild, not inline code or a Docker image.
    expect(readdirSync(out).filter((f) => f.startsWith('asset.')).length).toBeGreaterThanOrEqual(8);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 300_000);
