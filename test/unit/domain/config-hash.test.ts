import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson, CONFIG_HASH_LENGTH, configHash } from '../../../functions/domain/config-hash';

/** Rebuilds every object of a JSON value with its keys inserted in reverse (or a shuffled) order. */
function reorderKeys(value: unknown, pick: (keys: string[]) => string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => reorderKeys(v, pick));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of pick(Object.keys(value))) {
      // defineProperty, so a "__proto__" key stays an own data property as JSON.parse makes it.
      Object.defineProperty(out, k, { value: reorderKeys((value as Record<string, unknown>)[k], pick), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, 2], c: null } })).toBe('{"a":{"c":null,"d":[3,1,2]},"b":1}');
  });

  it('drops undefined, functions and symbols from objects and writes null for them in arrays', () => {
    expect(canonicalJson({ a: undefined, b: () => 1, c: Symbol('x'), d: [undefined, 1] })).toBe('{"d":[null,1]}');
  });

  it('honours toJSON, so a Date becomes its ISO string', () => {
    expect(canonicalJson({ at: new Date('2026-01-02T03:04:05.000Z') })).toBe('{"at":"2026-01-02T03:04:05.000Z"}');
  });

  it('writes non-finite numbers as null and -0 as 0, like JSON.stringify', () => {
    expect(canonicalJson([Number.NaN, Number.POSITIVE_INFINITY, -0])).toBe('[null,null,0]');
  });

  it('escapes strings and keys as JSON does', () => {
    expect(canonicalJson({ 'k"ey': 'line\nbreak "quoted" \u2028' })).toBe(JSON.stringify({ 'k"ey': 'line\nbreak "quoted" \u2028' }));
  });

  it('throws a TypeError for BigInt values instead of hashing something ambiguous', () => {
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it('throws a TypeError for a cyclic value', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => canonicalJson(a)).toThrow(/cycle/);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('throws when the top-level value has no JSON representation', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });

  it('indents with the given width and writes empty containers compactly', () => {
    expect(canonicalJson({ b: [], a: { c: 1 }, d: {} }, 2)).toBe('{\n  "a": {\n    "c": 1\n  },\n  "b": [],\n  "d": {}\n}');
  });

  it('parses back to an equal value (for JSON values)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });
});

describe('configHash', () => {
  it(`returns the first ${CONFIG_HASH_LENGTH} lowercase hex characters`, () => {
    expect(configHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is sha256 over the canonical JSON text', () => {
    const expected = createHash('sha256').update('{"a":1,"b":[2,3]}').digest('hex').slice(0, 16);
    expect(configHash({ b: [2, 3], a: 1 })).toBe(expected);
  });

  it('does not depend on the order keys were inserted in', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(configHash(reorderKeys(v, (keys) => [...keys].reverse()))).toBe(configHash(v));
      }),
    );
  });

  it('changes when a nested value changes', () => {
    expect(configHash({ plan: { cpu: 1024 } })).not.toBe(configHash({ plan: { cpu: 2048 } }));
  });

  it('changes when array order changes (lists are ordered data)', () => {
    expect(configHash({ models: ['a', 'b'] })).not.toBe(configHash({ models: ['b', 'a'] }));
  });

  it('tells a string from a number with the same digits', () => {
    expect(configHash({ port: 443 })).not.toBe(configHash({ port: '443' }));
  });

  it('gives different hashes for distinct JSON values (no collisions in a random sample)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        fc.pre(canonicalJson(a) !== canonicalJson(b));
        expect(configHash(a)).not.toBe(configHash(b));
      }),
    );
  });
});
