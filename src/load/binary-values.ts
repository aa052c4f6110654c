/**
 * Values of a bundle's vulnerability CSV in COPY's binary format: what PostgreSQL's receive
 * function of each column's type reads (bytea, timestamptz, boolean, versionrange, bigint; text is
 * its bytes). Each writer takes the field's bytes `buf[from, to)` as the bundle writer writes them
 * (src/model/row.ts: a `\x` hex bytea, an RFC 3339 UTC time, `t`/`f`, a versionrange `empty` or of
 * two int4[] bounds), writes its length and value at `out[o]` (the caller made room for
 * MAX_VALUE_BYTES) and returns the offset after them, or -1 when the bytes are not such a value.
 * `out` may be `buf` with `o` at or before `from`: each reads what it needs before it writes over it.
 */

export type BinaryColumn = 'text' | 'bytea' | 'timestamptz' | 'bool' | 'versionrange';

/** How each of a vulnerability file's columns goes into COPY's binary format (vuln's types). */
export function binaryColumns(columns: readonly string[]): BinaryColumn[] {
  const types: Record<string, BinaryColumn> = { hash: 'bytea', issued: 'timestamptz', vulnerable_range: 'versionrange', not_vulnerable: 'bool' };
  return columns.map((c) => types[c] ?? 'text');
}

/** The most a typed value takes (a versionrange of two 10-element bounds: 4 + 1 + 2 × 104). */
export const MAX_VALUE_BYTES = 256;
/** The most bytes of a versionrange's text this reads (longer ones are refused). */
const MAX_RANGE_TEXT = 200;

/** PGCOPY\n\377\r\n\0, no flags, no header extension. */
export const BINARY_SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
export const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** int4's type oid, which array_recv checks an int4[] bound's elements against. */
const INT4_OID = 23;
/** Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 (UTC). */
const PG_EPOCH_S = 946_684_800;
// range_recv's flags.
const RANGE_EMPTY = 0x01;
const RANGE_LB_INC = 0x02;
const RANGE_UB_INC = 0x04;
const TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:Z|\+00(?::?00)?)$/;
const RANGE = /^([[(])"?\{(-?\d+(?:,-?\d+)*)?\}"?,"?\{(-?\d+(?:,-?\d+)*)?\}"?([\])])$/;
const BOOLS = new Map([['t', 1], ['true', 1], ['yes', 1], ['on', 1], ['1', 1], ['f', 0], ['false', 0], ['no', 0], ['off', 0], ['0', 0]]);

/** Days from 1970-01-01 to a proleptic Gregorian date (any year, unlike Date.UTC's 0-99). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

/** Each byte's value as a hex digit, or -1 (a table: the hash of every row goes through it). */
const HEX = new Int8Array(256).fill(-1);
for (let b = 0; b < 256; b++) {
  if (b >= 0x30 && b <= 0x39) HEX[b] = b - 0x30;
  else if (b >= 0x61 && b <= 0x66) HEX[b] = b - 0x57;
  else if (b >= 0x41 && b <= 0x46) HEX[b] = b - 0x37;
}

/** A 32-bit integer (signed or not), big-endian, at out[o] (Buffer#writeInt32BE without its checks). */
export function int32(out: Buffer, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = v >>> 16;
  out[o + 2] = v >>> 8;
  out[o + 3] = v;
}

/** An int64 (a number of at most 2^53 in size) at out[o]. */
function writeInt64(out: Buffer, o: number, n: number): void {
  int32(out, o, Math.floor(n / 0x1_0000_0000));
  int32(out, o + 4, n % 0x1_0000_0000);
}

/** An id the loader numbers (LineNumbers: 0 for none) as a bigint column's value, its length first; 0 as NULL. */
export function writeId(out: Buffer, o: number, id: number): number {
  if (id <= 0) {
    int32(out, o, -1);
    return o + 4;
  }
  int32(out, o, 8);
  writeInt64(out, o + 4, id);
  return o + 12;
}

/** A value for a message: buf[from, to), its first 80 bytes, quoted. */
export function shownValue(buf: Buffer, from: number, to: number): string {
  return JSON.stringify(buf.toString('utf8', from, Math.min(to, from + 80)));
}

/** `\x` and an even number of hex digits. */
export function writeBytea(buf: Buffer, from: number, to: number, out: Buffer, o: number): number {
  if (to - from < 2 || buf[from] !== 0x5c || buf[from + 1] !== 0x78 || (to - from) % 2 !== 0) return -1;
  let w = o + 4;
  for (let k = from + 2; k < to; k += 2) {
    const hi = HEX[buf[k]];
    const lo = HEX[buf[k + 1]];
    if (hi < 0 || lo < 0) return -1;
    out[w++] = (hi << 4) | lo;
  }
  int32(out, o, w - o - 4);
  return w;
}

/** The number of the ASCII digits buf[from, to), or NaN. */
function digits(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) {
    const d = buf[k] - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

export function writeTimestamptz(buf: Buffer, from: number, to: number, out: Buffer, o: number): number {
  let y: number, mo: number, d: number, h: number, mi: number, s: number;
  let frac = '';
  if (to - from === 20 && buf[from + 4] === 0x2d && buf[from + 7] === 0x2d && buf[from + 10] === 0x54 && buf[from + 13] === 0x3a
    && buf[from + 16] === 0x3a && buf[from + 19] === 0x5a) {
    // The bundle writer's usual form, YYYY-MM-DDTHH:MM:SSZ, read in place (NaN fails the checks below).
    [y, mo, d, h, mi, s] = [digits(buf, from, from + 4), digits(buf, from + 5, from + 7), digits(buf, from + 8, from + 10),
      digits(buf, from + 11, from + 13), digits(buf, from + 14, from + 16), digits(buf, from + 17, from + 19)];
    if ([y, mo, d, h, mi, s].some(Number.isNaN)) return -1;
  } else {
    const m = to - from <= 40 ? TIMESTAMP.exec(buf.toString('latin1', from, to)) : null;
    if (!m) return -1;
    [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
    frac = m[7] ?? '';
  }
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 60) return -1;
  // Microseconds since PostgreSQL's epoch: as a number while exact (years 1715-2285), else BigInt.
  const seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - PG_EPOCH_S;
  const us = frac ? Number(frac.padEnd(6, '0')) : 0;
  int32(out, o, 8);
  if (Math.abs(seconds) < 9e9) writeInt64(out, o + 4, seconds * 1_000_000 + us);
  else out.writeBigInt64BE(BigInt(seconds) * 1_000_000n + BigInt(us), o + 4);
  return o + 12;
}

export function writeBool(buf: Buffer, from: number, to: number, out: Buffer, o: number): number {
  const b = buf[from];
  let v = to - from === 1 && (b === 0x74 || b === 0x66) ? Number(b === 0x74) : undefined;
  if (v === undefined && to - from <= 8) v = BOOLS.get(buf.toString('latin1', from, to).trim().toLowerCase());
  if (v === undefined) return -1;
  int32(out, o, 1);
  out[o + 4] = v;
  return o + 5;
}

export function writeVersionRange(buf: Buffer, from: number, to: number, out: Buffer, o: number): number {
  if (to - from === 5 && buf[from] === 0x65 && buf[from + 1] === 0x6d && buf[from + 2] === 0x70 && buf[from + 3] === 0x74 && buf[from + 4] === 0x79) {
    int32(out, o, 1); // empty
    out[o + 4] = RANGE_EMPTY;
    return o + 5;
  }
  const m = to - from <= MAX_RANGE_TEXT ? RANGE.exec(buf.toString('latin1', from, to)) : null;
  if (!m) return -1;
  const bounds = [m[2], m[3]].map((b) => (b ? b.split(',').map(Number) : []));
  if (bounds.some((b) => b.length > 10 || b.some((v) => v < -0x8000_0000 || v > 0x7fff_ffff))) return -1;
  out[o + 4] = (m[1] === '[' ? RANGE_LB_INC : 0) | (m[4] === ']' ? RANGE_UB_INC : 0);
  let w = o + 5;
  for (const values of bounds) {
    // An int4[] as array_recv reads it: dimensions, no NULLs, element type, size and lower bound, elements.
    out.writeInt32BE(values.length ? 20 + 8 * values.length : 12, w);
    out.writeInt32BE(values.length ? 1 : 0, w + 4);
    out.writeInt32BE(0, w + 8);
    out.writeInt32BE(INT4_OID, w + 12);
    w += 16;
    if (!values.length) continue;
    out.writeInt32BE(values.length, w);
    out.writeInt32BE(1, w + 4);
    w += 8;
    for (const v of values) {
      out.writeInt32BE(4, w);
      out.writeInt32BE(v, w + 4);
      w += 8;
    }
  }
  out.writeInt32BE(w - o - 4, o);
  return w;
}

/** What each writer reads, for an error. */
export const VALUE_FORMS: Record<Exclude<BinaryColumn, 'text'>, string> = {
  bytea: 'a bytea in hex (\\x…)', timestamptz: 'an RFC 3339 UTC time', bool: 't or f', versionrange: 'a versionrange (empty, or two int4[] bounds)',
};

/** The writer of a typed column. */
export const VALUE_WRITERS: Record<Exclude<BinaryColumn, 'text'>, typeof writeBytea> = {
  bytea: writeBytea, timestamptz: writeTimestamptz, bool: writeBool, versionrange: writeVersionRange,
};

/** A bigint written as decimal digits (at most 15: below 2^53), or -1 (empty, a sign, anything else). */
export function writeDigits(buf: Buffer, from: number, to: number, out: Buffer, o: number): number {
  if (to <= from || to - from > 15) return -1;
  let n = 0;
  for (let k = from; k < to; k++) {
    const d = buf[k] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  int32(out, o, 8);
  writeInt64(out, o + 4, n);
  return o + 12;
}
