/**
 * The premise of the `octw-pure-domain` plugin (infra/constructs/bundling.ts): function bundles treat
 * every module of functions/domain as free of side effects, so a domain module whose exports a
 * function does not use is left out of its bundle. That holds while every top-level statement of
 * the domain layer is a declaration: no expression statement (a call run for its effect), no import
 * run for its effect, no class static block. And it matters: a function that reads only plain
 * variables carries none of the plan catalogue's or ingress's schemas.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { buildLambdaBundle, DOMAIN_DIR } from '../../infra/constructs/bundling';

/** Top-level statements of `source` that are not declarations, as `line: text`. */
function effectfulStatements(source: string, file = 'module.ts'): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2023, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const at = (node: ts.Node) => `${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}: ${node.getText(sf).split('\n')[0]}`;
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      if (!st.importClause) found.push(at(st)); // `import './x'`: run for its effect
    } else if (ts.isClassDeclaration(st)) {
      for (const m of st.members) if (ts.isClassStaticBlockDeclaration(m)) found.push(at(m));
    } else if (
      !ts.isVariableStatement(st) &&
      !ts.isFunctionDeclaration(st) &&
      !ts.isInterfaceDeclaration(st) &&
      !ts.isTypeAliasDeclaration(st) &&
      !ts.isExportDeclaration(st) &&
      !ts.isEnumDeclaration(st)
    ) {
      found.push(at(st));
    }
  }
  return found;
}

describe('functions/domain is declarations only', () => {
  it('finds an expression statement, a bare import and a static block (the check can fail)', () => {
    expect(effectfulStatements("import './register';\nexport const a = 1;\nregistry.add(a);\nclass C { static { go(); } }\n")).toEqual([
      "1: import './register';",
      '3: registry.add(a);',
      '4: static { go(); }',
    ]);
  });

  it.each(readdirSync(DOMAIN_DIR).filter((f) => f.endsWith('.ts')))('%s has no top-level statement run for its effect', (file) => {
    expect(effectfulStatements(readFileSync(path.join(DOMAIN_DIR, file), 'utf8'), file)).toEqual([]);
  });
});

describe('a bundle carries only the environment definitions and domain modules it uses', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'octw-domain-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('reading TABLE_NAME and CELL_ID leaves the plan, tenant, ingress and egress schemas out; reading PLANS_JSON brings them', async () => {
    const shared = path.join(__dirname, '../../functions/shared');
    const entry = (name: string, vars: string[]) => {
      const file = path.join(out, `${name}.ts`);
      writeFileSync(
        file,
        `import { loadEnv } from ${JSON.stringify(path.join(shared, 'env'))};\nimport * as vars from ${JSON.stringify(path.join(shared, 'env-vars'))};\n` +
          `export const handler = () => loadEnv([${vars.map((v) => `vars.${v}`).join(', ')}]);\n`,
      );
      return file;
    };
    const domainInputs = async (file: string) => {
      const meta = await buildLambdaBundle(file, path.join(out, path.basename(file, '.ts'), 'index.mjs'));
      return Object.values(meta.outputs)
        .flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([name]) => name))
        .filter((name) => name.includes('functions/domain/'))
        .map((name) => path.basename(name))
        .sort();
    };
    expect(await domainInputs(entry('plain', ['TABLE_NAME', 'CELL_ID']))).toEqual(['naming.ts']);
    const plans = await domainInputs(entry('plans', ['TABLE_NAME', 'PLANS_JSON']));
    expect(plans).toEqual(expect.arrayContaining(['tenant.ts', 'channels.ts']));
    expect(plans).not.toContain('ingress.ts'); // only INGRESS_SETTINGS_JSON reads it
  }, 60_000);
});
