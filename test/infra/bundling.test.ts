/**
 * The schema-key rewrite of infra/constructs/bundling.ts: an AWS SDK schema module's computed trait
 * keys become the string literals their module constants hold, and nothing else changes. (The real
 * bundles are checked in test-slow/infra/cdk-synth.test.ts.)
 */
import { runInNewContext } from 'node:vm';
import { inlineSchemaKeys } from '../../infra/constructs/bundling';

const MODULE = [
  'const _xN = "xmlName";',
  'const _eQN = "ec2QueryName";',
  'const _q = "say \\"hi\\"";',
  'const n0 = "com.amazonaws.ec2";',
  'export var A$ = [3, n0, "A", 0, [_xN], [[() => B$, { [_eQN]: `B`, [_xN]: _xN }]]];',
  'export var C$ = [3, n0, "C", 0, [], [{ [_q]: 1, [other]: 2, [n0]: 3 }]];',
].join('\n');

describe('inlineSchemaKeys', () => {
  const out = inlineSchemaKeys(MODULE);

  it('writes each computed key naming a module string constant as that string', () => {
    expect(out).toContain('{ "ec2QueryName": `B`, "xmlName": _xN }');
    expect(out).toContain('{ "say \\"hi\\"": 1,');
  });

  it('leaves keys that name no `_` string constant, values and declarations as they were', () => {
    expect(out).toContain('[other]: 2, [n0]: 3');
    expect(out).toContain('[_xN], [[() => B$');
    expect(out.split('\n').slice(0, 4)).toEqual(MODULE.split('\n').slice(0, 4));
  });

  it('builds objects equal to the originals', () => {
    const evaluate = (src: string): unknown => runInNewContext(`${src.replace(/export var/g, 'var').replace('[other]', '["other"]')}; [A$[5][0][1], C$[5][0]];`);
    expect(evaluate(out)).toEqual(evaluate(MODULE));
  });
});
