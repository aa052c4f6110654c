/**
 * 64-bit FNV-1a of a UTF-8 string, as a signed bigint: the advisory-lock key claircore's
 * ctxlock uses for an updater name or `garbage-collection`.
 */
const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

export function fnv1a64Signed(key: string): bigint {
  let h = OFFSET;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * PRIME) & MASK;
  }
  return BigInt.asIntN(64, h);
}
