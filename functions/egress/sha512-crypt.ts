/**
 * SHA-512 crypt ("$6$", Drepper's SHA-crypt, the glibc/libxcrypt format) in pure TypeScript, so the
 * proxy credential file for Squid's `basic_ncsa_auth` (which verifies with the system crypt(3))
 * is written without a native module. Checked against `openssl passwd -6` in test/egress.
 */
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const DEFAULT_ROUNDS = 5000;
const SALT_CHARS = /^[./0-9A-Za-z]{1,16}$/;

function sha512(...parts: Buffer[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

function repeatTo(source: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += source.length) source.copy(out, i, 0, Math.min(source.length, length - i));
  return out;
}

/** `$6$[rounds=N$]salt$hash` for `password`; `salt` is 1-16 characters of [./0-9A-Za-z]. */
export function sha512Crypt(password: string, salt: string, rounds = DEFAULT_ROUNDS): string {
  if (!SALT_CHARS.test(salt)) throw new Error('sha512Crypt: salt must be 1-16 characters of [./0-9A-Za-z]');
  if (!Number.isInteger(rounds) || rounds < 1000 || rounds > 999_999_999) throw new Error('sha512Crypt: rounds must be an integer 1000-999999999');
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt, 'utf8');
  const B = sha512(P, S, P);
  const a = createHash('sha512').update(P).update(S);
  let i = P.length;
  for (; i > 64; i -= 64) a.update(B);
  a.update(B.subarray(0, i));
  for (let n = P.length; n > 0; n >>= 1) a.update(n & 1 ? B : P);
  const A = a.digest();
  const dp = createHash('sha512');
  for (let n = 0; n < P.length; n += 1) dp.update(P);
  const Pseq = repeatTo(dp.digest(), P.length);
  const ds = createHash('sha512');
  for (let n = 0; n < 16 + (A[0] ?? 0); n += 1) ds.update(S);
  const Sseq = ds.digest().subarray(0, S.length);
  let C = A;
  for (let r = 0; r < rounds; r += 1) {
    const h = createHash('sha512');
    h.update(r & 1 ? Pseq : C);
    if (r % 3) h.update(Sseq);
    if (r % 7) h.update(Pseq);
    h.update(r & 1 ? C : Pseq);
    C = h.digest();
  }
  let out = '';
  const b64 = (b2: number, b1: number, b0: number, n: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let k = 0; k < n; k += 1) {
      out += ALPHABET[w & 0x3f];
      w >>= 6;
    }
  };
  const c = (k: number) => C[k] ?? 0;
  for (let k = 0; k < 21; k += 1) {
    const [x, y, z] = [k, k + 21, k + 42];
    if (k % 3 === 0) b64(c(x), c(y), c(z), 4);
    else if (k % 3 === 1) b64(c(y), c(z), c(x), 4);
    else b64(c(z), c(x), c(y), 4);
  }
  b64(0, 0, c(63), 2);
  return `$6$${rounds === DEFAULT_ROUNDS ? '' : `rounds=${rounds}$`}${salt}$${out}`;
}

/** A fresh random salt of 16 characters. */
export function randomSalt(): string {
  return [...randomBytes(16)].map((b) => ALPHABET[b & 0x3f]).join('');
}
