import { ConfigError, feedErrors } from '../../errors.js';
import type { Distribution } from '../../model/vulnerability.js';
import { anchorHrefs } from './listing.js';
import { importantScaleSeverity } from '../oval/severity.js';

/**
 * SUSE OVAL (claircore suse/factory.go, suse.go, normalizeseverity.go): the factory reads the
 * HTML index of the OVAL directory and makes one updater per SLES (`NN`) or openSUSE Leap
 * (>= 15.5) `.xml.gz` file it links to, named `suse-updater-` + the distribution's pretty name
 * lower-cased with `.` for spaces.
 */
export const FEED = 'suse';
export const PART = 'suse';
export const DEFAULT_BASE_URL = 'https://ftp.suse.com/pub/projects/security/oval/';
/** The directory page (the base URL itself) is kept in the mirror under this name. */
export const INDEX_FILE = 'index.html';
/** Feed option: comma-separated updater names (or their part after `suse-updater-`) to fetch and build. */
export const RELEASES_OPTION = 'suse-releases';

export const feedError = feedErrors(FEED);

/** One updater the factory makes: its name, Dist, and where its file is. */
export interface SuseRelease {
  updater: string;
  dist: Distribution;
  /** The `href` as the page has it. */
  href: string;
  /** Absolute URL (the base URL resolving the href). */
  url: string;
  /** Path in the mirror part, relative to the base URL. */
  relPath: string;
}

// claircore's regular expressions, unanchored; Go's `.` is any character but a newline.
const EL_FILE = /suse[^\n]linux[^\n]enterprise[^\n]server[^\n]([1-9][1-9])[^\n]xml[^\n]gz/gu;
const LEAP_FILE = /opensuse[^\n]leap[^\n](1[0-9][^\n][0-9]+)[^\n]xml[^\n]gz/gu;

export function slesDist(ver: string): Distribution {
  return { did: 'sles', name: 'SLES', version: ver, versionCodeName: '', versionId: ver, arch: '', cpe: '', prettyName: `SUSE Linux Enterprise Server ${ver}` };
}

export function leapDist(ver: string): Distribution {
  return { did: 'opensuse-leap', name: 'openSUSE Leap', version: ver, versionCodeName: '', versionId: ver, arch: '', cpe: '', prettyName: `openSUSE Leap ${ver}` };
}

/** claircore Updater.Name. */
export function updaterName(d: Distribution): string {
  return `suse-updater-${d.prettyName.toLowerCase().replaceAll(' ', '.')}`;
}

/**
 * claircore Factory.UpdaterSet over the directory page: every `<a href>` whose value the SLES
 * or Leap expression matches exactly once. A repeated updater name fails the whole set, as
 * `UpdaterSet.Add` does.
 */
export function discoverReleases(html: string, base: string, display: string): SuseRelease[] {
  const out: SuseRelease[] = [];
  for (const href of anchorHrefs(html)) {
    let dist: Distribution | undefined;
    const el = [...href.matchAll(EL_FILE)];
    if (el.length === 1) dist = slesDist(el[0][1]);
    const leap = [...href.matchAll(LEAP_FILE)];
    if (leap.length === 1) {
      const ver = leap[0][1];
      const sv = parseSemver(ver);
      if (!sv) continue;
      if (compareSemver(sv, MINIMUM_LEAP) > -1) dist = leapDist(ver);
    }
    if (!dist) continue;
    let url: URL;
    try {
      url = new URL(href, base);
    } catch (err) {
      throw feedError({ file: display, record: href }, 'unable to construct request for the link', err);
    }
    const name = updaterName(dist);
    if (out.some((r) => r.updater === name)) {
      throw feedError({ file: display, record: href }, `updater ${name} is linked more than once (claircore's factory fails the whole SUSE set)`);
    }
    if (!url.href.startsWith(base) || url.search !== '' || url.hash !== '') {
      throw feedError({ file: display, record: href }, `links outside the base URL ${base}; it cannot be kept in the mirror layout`);
    }
    out.push({ updater: name, dist, href, url: url.href, relPath: url.href.slice(base.length) });
  }
  return out;
}

/** The releases named by the option (every discovered one without it); an unknown name is an error. */
export function selectReleases(all: readonly SuseRelease[], options: Readonly<Record<string, string>>, display: string): SuseRelease[] {
  const raw = options[RELEASES_OPTION];
  if (raw === undefined) return [...all];
  const names = raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '').map((s) => (s.startsWith('suse-updater-') ? s : `suse-updater-${s}`));
  if (names.length === 0) {
    throw new ConfigError(`${RELEASES_OPTION}: no release named`, { hint: `e.g. --option ${RELEASES_OPTION}=suse.linux.enterprise.server.15,opensuse.leap.15.6` });
  }
  const missing = names.filter((n) => !all.some((r) => r.updater === n));
  if (missing.length) {
    throw feedError({ file: display, record: missing.join(', ') }, 'not linked from the SUSE OVAL index (known: ' + (all.map((r) => r.updater).join(', ') || 'none') + ')');
  }
  return all.filter((r) => names.includes(r.updater));
}

/** claircore suse NormalizeSeverity. */
export const normalizeSeverity = importantScaleSeverity;

// ---- Masterminds/semver v1.5.0 (NewVersion, Compare), as far as Leap versions need it ----

interface Semver {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
}

const SEMVER = /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;
const INT64_MAX = 2n ** 63n - 1n;
const MINIMUM_LEAP: Semver = { major: 15n, minor: 5n, patch: 0n, pre: '' };

export function parseSemver(s: string): Semver | undefined {
  const m = SEMVER.exec(s);
  if (!m) return undefined;
  const num = (g: string | undefined) => (g === undefined ? 0n : BigInt(g.replace(/^\./, '')));
  const v = { major: num(m[1]), minor: num(m[2]), patch: num(m[3]), pre: m[5] ?? '' };
  if (v.major > INT64_MAX || v.minor > INT64_MAX || v.patch > INT64_MAX) return undefined;
  return v;
}

export function compareSemver(a: Semver, b: Semver): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  }
  if (a.pre === b.pre) return 0;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  return comparePrerelease(a.pre, b.pre);
}

function comparePrerelease(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (i >= pa.length) return -1;
    if (i >= pb.length) return 1;
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    if (xn && yn) return BigInt(x) < BigInt(y) ? -1 : 1;
    if (xn) return -1;
    if (yn) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
