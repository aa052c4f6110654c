import type { Range, Version } from './vulnerability.js';

export const MAX_INT32 = 2147483647;
const MIN_INT32 = -2147483648;

/** Builds a Version from up to ten int32 values; missing positions are 0. */
export function version(kind: string, values: readonly number[]): Version {
  if (values.length > 10) throw new RangeError(`a version has at most 10 parts, got ${values.length}`);
  const v = new Array<number>(10).fill(0);
  values.forEach((n, i) => {
    if (!Number.isInteger(n) || n < MIN_INT32 || n > MAX_INT32) {
      throw new RangeError(`version part ${i} is not an int32: ${n}`);
    }
    v[i] = n;
  });
  return { kind, v };
}

/** PostgreSQL int4[] text of a version: `{0,1,4,2,0,0,0,0,0,0}`. */
export function versionArrayText(ver: Version): string {
  return `{${ver.v.join(',')}}`;
}

/** `version_kind` column: the kind when both bounds share it, else NULL. */
export function versionKind(range: Range | null): string | null {
  if (range === null || range.lower.kind !== range.upper.kind) return null;
  return range.lower.kind;
}

/**
 * `vulnerable_range` column as the `versionrange` literal Clair stores: no range is Clair's column
 * default, `versionrange('{}', '{}', '()')`, which PostgreSQL writes as `empty`. The CSV holds the
 * stored value so a load can COPY the file straight into vuln (src/load/direct.ts).
 */
export const NO_RANGE = 'empty';
export function rangeLiteral(range: Range | null): string {
  if (range === null) return NO_RANGE;
  return `["${versionArrayText(range.lower)}","${versionArrayText(range.upper)}")`;
}

/** Compares two int32 arrays element-wise (PostgreSQL's btree order on int4[] of equal length). */
export function compareVersionValues(a: Version, b: Version): number {
  for (let i = 0; i < 10; i++) {
    const d = (a.v[i] ?? 0) - (b.v[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
