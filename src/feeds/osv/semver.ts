import { version } from '../../model/version.js';
import type { Version } from '../../model/vulnerability.js';

/**
 * Masterminds/semver v1.5.0 as claircore uses it: NewVersion (an optional `v`, 1–3 numeric
 * parts each an int64, optional `-pre` and `+meta`), IncPatch, Original, and claircore's
 * FromSemver (`semver` kind, `[0, major, minor, patch]` truncated to int32).
 */
const SEMVER = /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;
const INT64_MAX = 9223372036854775807n;

export interface Semver {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
  original: string;
}

export function parseSemver(s: string): Semver | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  const n = (x: string | undefined) => (x ? BigInt(x.replace(/^\./, '')) : 0n);
  const v = { major: n(m[1]), minor: n(m[2]), patch: n(m[3]), pre: m[5] ?? '', original: s };
  if (v.major > INT64_MAX || v.minor > INT64_MAX || v.patch > INT64_MAX) return undefined;
  return v;
}

/** IncPatch: a prerelease is dropped without bumping; otherwise the patch is bumped (int64 wrap). */
export function incPatch(v: Semver): Semver {
  if (v.pre !== '') return { ...v, pre: '' };
  return { ...v, pre: '', patch: BigInt.asIntN(64, v.patch + 1n) };
}

export function fromSemver(v: Semver): Version {
  const i32 = (x: bigint) => Number(BigInt.asIntN(32, x));
  return version('semver', [0, i32(v.major), i32(v.minor), i32(v.patch)]);
}
