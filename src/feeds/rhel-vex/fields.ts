import { qualifier, type PackageUrl } from '../../model/purl.js';
import { MAX_INT32, compareVersionValues, version } from '../../model/version.js';
import type { NormalizedSeverity, Range } from '../../model/vulnerability.js';
import { validCvssV2, validCvssV3, validCvssV4 } from './cvss.js';
import type { Score } from './upstream.js';

/**
 * Record fields both resolutions (csaf.ts for v1.5.53+, creator.ts up to v1.5.52) derive the
 * same way from a CSAF entry (claircore rhel/vex/parser.go; spec clair-updaters.md §4.6–4.10).
 */
export const UPDATER = 'rhel-vex';
export const REPO_KEY_RPM = 'rhel-cpe-repository';
export const REPO_KEY_OCI = 'rhcc-container-repository';

/** A document claircore refuses (bad `cve`, or for v1.5.48 a bad CVSS vector); the whole update aborts. */
export class DocumentError extends Error {
  constructor(readonly record: string, message: string) {
    super(message);
  }
}

/** The vector (v4, v3, v2) of a score when claircore can parse it, else undefined. */
export function vector(sc: Score | undefined): string | undefined {
  if (!sc) return undefined;
  if (sc.cvss_v4) return validCvssV4(sc.cvss_v4.vectorString) ? sc.cvss_v4.vectorString : undefined;
  if (sc.cvss_v3) return validCvssV3(sc.cvss_v3.vectorString) ? sc.cvss_v3.vectorString : undefined;
  if (sc.cvss_v2) return validCvssV2(sc.cvss_v2.vectorString) ? sc.cvss_v2.vectorString : undefined;
  return undefined;
}

/** common.NormalizeSeverity of an `impact` threat's details; Unknown without one. */
export function normalizedSeverity(details: string | undefined): NormalizedSeverity {
  switch (details?.toLowerCase()) {
    case 'low': return 'Low';
    case 'moderate': return 'Medium';
    case 'important': return 'High';
    case 'critical': return 'Critical';
    default: return 'Unknown';
  }
}

/** extractPackageName; undefined for an OCI repository_url without '/' and for types other than rpm/oci. */
export function packageName(p: PackageUrl): string | undefined {
  if (p.type === 'rpm') return p.name;
  if (p.type !== 'oci') return undefined;
  if (p.namespace !== '') return `${p.namespace}/${p.name}`;
  const ru = qualifier(p, 'repository_url');
  if (ru === undefined) return p.name;
  const slash = ru.indexOf('/');
  return slash === -1 ? undefined : ru.slice(slash + 1);
}

/** componentPURLToModuleName: `name:stream` from rpmmod; undefined when malformed. */
export function moduleName(p: PackageUrl): string | undefined {
  const v = qualifier(p, 'rpmmod');
  if (v === undefined) return '';
  const [name, rest] = cut(v, ':');
  if (rest === undefined || rest === '') return undefined;
  const [stream] = cut(rest, ':');
  return stream === '' ? undefined : `${name}:${stream}`;
}

export function floodRange(): Range {
  return { lower: version('rhctag', []), upper: version('rhctag', [MAX_INT32]) };
}

export function cut(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i === -1 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)];
}

// ---- OCI ranges (pkg/rhctag) ----------------------------------------------------------

/** Per purl name, the range with the strictly lowest Lower; its Lower is reset to 0 at the end. */
export class Ranger {
  private readonly lowest = new Map<string, Range>();

  add(purlName: string, fixedIn: string): Range | undefined {
    let rng: Range;
    if (fixedIn === '') {
      rng = floodRange();
    } else {
      const t = parseRhctag(fixedIn);
      if (!t) return undefined;
      rng = { lower: version('rhctag', [t.major, t.minor, 0]), upper: version('rhctag', [t.major, t.minor, MAX_INT32]) };
    }
    const cur = this.lowest.get(purlName);
    if (!cur || compareVersionValues(rng.lower, cur.lower) < 0) this.lowest.set(purlName, rng);
    return rng;
  }

  resetLowest(): void {
    for (const r of this.lowest.values()) r.lower = version('rhctag', []);
  }
}

/** rhctag.Parse: strip `v`, cut at the first `-`, major before the first `.`, minor (or 0) next. */
export function parseRhctag(tag: string): { major: number; minor: number } | undefined {
  let s = tag.startsWith('v') ? tag.slice(1) : tag;
  const dash = s.indexOf('-');
  if (dash > 0) s = s.slice(0, dash);
  const major = upToDot(s);
  if (!major) return undefined;
  const minor = upToDot(major.rest);
  return { major: major.value, minor: minor?.value ?? 0 };
}

function upToDot(s: string): { value: number; rest: string } | undefined {
  const dot = s.indexOf('.');
  if (dot > 0) {
    const v = atoi(s.slice(0, dot));
    return v === undefined ? undefined : { value: v, rest: s.slice(dot + 1) };
  }
  const v = atoi(s);
  return v === undefined ? undefined : { value: v, rest: '' };
}

/** Go strconv.Atoi (int64 range), then the int32 conversion Version() applies. */
function atoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return undefined;
  return Number(BigInt.asIntN(32, n));
}
