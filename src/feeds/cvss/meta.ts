import { goTrimSpace } from '../go-json.js';

/**
 * NVD `.meta` files as claircore reads them (enricher/cvss/metafile.go): only lines ending in
 * `\n` count (a last line without one is ignored), each trimmed and cut at the first `:`;
 * `lastModifiedDate` must parse as Go's time.RFC3339 and `size`/`zipSize`/`gzSize` as
 * base-10 int64, otherwise claircore's whole run fails. `sha256` is kept upper-cased (the
 * fingerprint); other keys are ignored.
 */
export class MetaError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

export interface NvdMeta {
  sha256: string;
  lastModified: string;
}

const INT64 = /^[+-]?\d+$/;

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Go time.Parse(time.RFC3339, s): 4-digit year, 2-digit month and day, 1–2-digit hour, 2-digit
 * minute and second, optional fraction, then `Z` or ±hh:mm (hour ≤ 24, minute ≤ 60).
 */
export function isGoRfc3339(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || h > 23 || mi > 59 || sec > 59) return false;
  if (m[7] !== undefined && (Number(m[7]) > 24 || Number(m[8]) > 60)) return false;
  return true;
}

function isInt64(v: string): boolean {
  if (!INT64.test(v)) return false;
  const n = BigInt(v);
  return n >= -(1n << 63n) && n < 1n << 63n;
}

export function parseMeta(text: string): NvdMeta {
  const out: NvdMeta = { sha256: '', lastModified: '' };
  const lines = text.split('\n');
  // The piece after the last '\n' is not a line claircore reads.
  lines.pop();
  lines.forEach((raw, i) => {
    const l = goTrimSpace(raw);
    const c = l.indexOf(':');
    if (c === -1) return;
    const k = l.slice(0, c);
    const v = l.slice(c + 1);
    switch (k) {
      case 'lastModifiedDate':
        if (!isGoRfc3339(v)) throw new MetaError(`lastModifiedDate ${JSON.stringify(v)} is not an RFC 3339 time`, i + 1);
        out.lastModified = v;
        break;
      case 'size':
      case 'zipSize':
      case 'gzSize':
        if (!isInt64(v)) throw new MetaError(`${k} ${JSON.stringify(v)} is not an integer`, i + 1);
        break;
      case 'sha256':
        out.sha256 = v.toUpperCase();
        break;
      default:
    }
  });
  return out;
}
