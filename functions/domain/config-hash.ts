/**
 * A short, stable fingerprint of a JSON-like value: sha256 over a canonical JSON encoding
 * (object keys sorted by code unit, no insignificant whitespace), hex, first 16 characters.
 * Used to detect a changed tenant configuration and to derive idempotency tokens, so the same
 * value must give the same hash in every process, whatever order its keys were built in.
 *
 * Pure domain code: node:crypto only, no AWS SDK.
 */
import { createHash } from 'node:crypto';

/** Length of the hex prefix returned by `configHash` (64 bits: collisions are not a practical concern per tenant). */
export const CONFIG_HASH_LENGTH = 16;

/**
 * Canonical JSON text of `value`.
 *
 * Follows `JSON.stringify` semantics for what is representable (`toJSON` is honoured, so Dates
 * become ISO strings; `undefined`, functions and symbols are dropped from objects and become
 * `null` in arrays; non-finite numbers become `null`; `-0` becomes `0`) and differs in one way:
 * object keys are emitted in sorted order at every depth. BigInt values and cycles throw a
 * TypeError, as with `JSON.stringify`, rather than hashing something ambiguous.
 *
 * @param indent spaces per level; 0 (default) gives the compact form used for hashing.
 */
export function canonicalJson(value: unknown, indent = 0): string {
  const out = encode(value, indent, '', new Set<object>());
  if (out === undefined) {
    throw new TypeError('canonicalJson: value has no JSON representation (undefined, function or symbol)');
  }
  return out;
}

/** sha256(canonicalJson(value)), hex, first 16 characters. */
export function configHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex').slice(0, CONFIG_HASH_LENGTH);
}

function encode(value: unknown, indent: number, pad: string, seen: Set<object>): string | undefined {
  let v: unknown = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'bigint':
      throw new TypeError('canonicalJson: BigInt values have no JSON representation');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (v === null) return 'null';
  const obj = v as object;
  if (seen.has(obj)) throw new TypeError('canonicalJson: value contains a cycle');
  seen.add(obj);
  const inner = indent > 0 ? pad + ' '.repeat(indent) : '';
  const nl = indent > 0 ? '\n' : '';
  const colon = indent > 0 ? ': ' : ':';
  let text: string;
  if (Array.isArray(obj)) {
    const items = (obj as unknown[]).map((item) => encode(item, indent, inner, seen) ?? 'null');
    text = items.length === 0 ? '[]' : `[${nl}${items.map((i) => inner + i).join(`,${nl}`)}${nl}${pad}]`;
  } else {
    const entries: string[] = [];
    for (const key of Object.keys(obj).sort(compareCodeUnits)) {
      const encoded = encode((obj as Record<string, unknown>)[key], indent, inner, seen);
      if (encoded !== undefined) entries.push(`${inner}${JSON.stringify(key)}${colon}${encoded}`);
    }
    text = entries.length === 0 ? '{}' : `{${nl}${entries.join(`,${nl}`)}${nl}${pad}}`;
  }
  seen.delete(obj);
  return text;
}

/** Plain code-unit order (what `Array.prototype.sort` does by default), independent of locale. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
