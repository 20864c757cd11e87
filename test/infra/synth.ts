/**
 * Synthesizes the platform the way `cdk synth` does (cdk.json context, cdk-nag plugins), once per test
 * file. Lambda bundling is skipped unless asked for: template tests do not need the bundles.
 *
 * CDK's built-in CloudFormation validation (a WASM rules engine, `builtinCloudFormationValidation`)
 * is off here: starting its engine costs several seconds per synth, and without the feature flag
 * `@aws-cdk/core:validateAgainstDefaultRules` its findings are only printed as warnings, so it can
 * fail no template test. The real `cdk synth` (test-slow/infra/cdk-synth.test.ts) keeps it on and
 * checks its report.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import * as z from 'zod';
import { configFromNode } from '../../infra/config';
import { PlatformStack } from '../../infra/platform-stack';

export const REPO_ROOT = path.join(__dirname, '../..');

/** The `context` block of cdk.json, as `cdk synth` reads it. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = z
    .object({ context: z.record(z.string(), z.unknown()) })
    .parse(JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')));
  return cdkJson.context;
}

export interface Synthesized {
  readonly stack: PlatformStack;
  readonly template: Template;
  /** The error synth raised (cdk-nag findings fail synth), if any. */
  readonly synthError: Error | undefined;
}

export function synthPlatform(options: { context?: Record<string, unknown>; nag?: boolean } = {}): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'octw-cdk-'));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { ...cdkJsonContext(), ...options.context, 'aws:cdk:bundling-stacks': [] },
  });
  const config = configFromNode(app.node);
  const stack = new PlatformStack(app, config.stackName, { config });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  let synthError: Error | undefined;
  let template: Template;
  try {
    const assembly = app.synth();
    template = Template.fromJSON(assembly.getStackByName(stack.stackName).template as Record<string, unknown>);
  } catch (error) {
    synthError = error instanceof Error ? error : new Error(String(error));
    template = Template.fromJSON({ Resources: {} });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  return { stack, template, synthError };
}

/** A CloudFormation IAM statement as it appears in the template. */
export interface CfnStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every policy statement anywhere in the template (identity, resource, trust and key policies). */
export function allStatements(template: Template): { logicalId: string; statement: CfnStatement }[] {
  const found: { logicalId: string; statement: CfnStatement }[] = [];
  const walk = (node: unknown, logicalId: string) => {
    if (Array.isArray(node)) node.forEach((n) => walk(n, logicalId));
    else if (node !== null && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      if (Array.isArray(obj.Statement)) {
        for (const s of obj.Statement) found.push({ logicalId, statement: s as CfnStatement });
      }
      Object.values(obj).forEach((v) => walk(v, logicalId));
    }
  };
  for (const [logicalId, resource] of Object.entries(template.toJSON().Resources as Record<string, unknown>)) walk(resource, logicalId);
  return found;
}

/** Statements of the policies attached to the role of a house function, found by the function's logical-id prefix. */
export function functionStatements(template: Template, handlerKey: string): CfnStatement[] {
  return allStatements(template)
    .filter(({ logicalId }) => logicalId.startsWith(`${handlerKey}FunctionPolicy`) || logicalId.startsWith(`${handlerKey}FunctionRoleDefaultPolicy`))
    .map(({ statement }) => statement);
}

/** Renders an Fn::Join'd DefinitionString into JSON text, with every intrinsic replaced by a marker. */
export function renderDefinition(definitionString: unknown): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const obj = v as Record<string, unknown>;
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    if ('Fn::GetAtt' in obj) return `@GetAtt:${(obj['Fn::GetAtt'] as string[]).join('.')}`;
    if ('Ref' in obj) return `@Ref:${String(obj.Ref)}`;
    return '@intrinsic';
  };
  return render(definitionString);
}
