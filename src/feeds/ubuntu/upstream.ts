import { ConfigError, feedErrors } from '../../errors.js';
import type { Distribution } from '../../model/vulnerability.js';

/**
 * Upstream shapes of the ubuntu feed (claircore ubuntu/updaterset.go): the Launchpad series
 * collection and the per-release OVAL file names, plus the release selection shared by fetch
 * and parse.
 */
export const FEED = 'ubuntu';
export const LAUNCHPAD_PART = 'ubuntu.launchpad';
export const OVAL_PART = 'ubuntu.oval';
export const DEFAULT_LAUNCHPAD_URL = 'https://api.launchpad.net/1.0/';
export const DEFAULT_OVAL_URL = 'https://security-metadata.canonical.com/';
/** Distribution name as claircore asks the Launchpad API for it (factory config `name`). */
export const SERIES_FILE = 'ubuntu/series';
/** Feed option: comma-separated codenames to build (default: every active series). */
export const RELEASES_OPTION = 'ubuntu-releases';

export const feedError = feedErrors(FEED);

/** One `entries[]` element: the only fields claircore reads. */
export interface Series {
  name: string;
  version: string;
  active: boolean;
}

/** Decodes the series collection like Go's json into claircore's seriesResponse. */
export function decodeSeries(text: string, display: string): Series[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw feedError({ file: display }, `malformed JSON: ${(err as Error).message}`, err);
  }
  if (doc === null) return [];
  if (typeof doc !== 'object' || Array.isArray(doc)) throw feedError({ file: display }, 'not a Launchpad collection object');
  const entries = (doc as Record<string, unknown>).entries;
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw feedError({ file: display, record: 'entries' }, 'entries is not an array');
  return entries.map((e, i): Series => {
    const place = { file: display, record: `entries[${i}]` };
    if (e === null) return { name: '', version: '', active: false };
    if (typeof e !== 'object' || Array.isArray(e)) throw feedError(place, 'not an object');
    const o = e as Record<string, unknown>;
    const str = (k: string) => {
      const v = o[k];
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string') throw feedError(place, `${k} is not a string`);
      return v;
    };
    const active = o.active;
    if (active !== undefined && active !== null && typeof active !== 'boolean') throw feedError(place, 'active is not a boolean');
    return { name: str('name'), version: str('version'), active: active === true };
  });
}

/** claircore mkDist: `{Ubuntu, ubuntu, <version>, "Ubuntu <version>", <name>, "<version> (<Title>)"}`. */
export function seriesDist(s: Series): Distribution {
  return {
    did: 'ubuntu', name: 'Ubuntu', version: `${s.version} (${goTitle(s.name)})`, versionCodeName: s.name, versionId: s.version,
    arch: '', cpe: '', prettyName: `Ubuntu ${s.version}`,
  };
}

/** Go's (deprecated) strings.Title: upper-case the first letter of each word. */
function goTitle(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, sep: string, c: string) => sep + c.toUpperCase());
}

/** The release codenames named by the option, or undefined for "claircore's default set". */
export function releasesOption(options: Readonly<Record<string, string>>): string[] | undefined {
  const raw = options[RELEASES_OPTION];
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (names.length === 0) throw new ConfigError(`${RELEASES_OPTION}: no release named`, { hint: `e.g. --option ${RELEASES_OPTION}=jammy,noble` });
  for (const n of names) {
    if (!/^[a-z][a-z0-9-]*$/.test(n)) throw new ConfigError(`${RELEASES_OPTION}: ${JSON.stringify(n)} is not an Ubuntu codename`);
  }
  return [...new Set(names)];
}

/**
 * The series an update covers: every active series (claircore's default), or exactly the
 * named ones (like claircore's `force`, active or not). A named release the series list does
 * not know is an error: claircore could not build its distribution either.
 */
export function selectSeries(all: readonly Series[], wanted: string[] | undefined, display: string): Series[] {
  const seen = new Set<string>();
  const unique = all.filter((s) => s.name !== '' && !seen.has(s.name) && seen.add(s.name));
  if (!wanted) return unique.filter((s) => s.active);
  const missing = wanted.filter((w) => !unique.some((s) => s.name === w));
  if (missing.length) {
    throw feedError({ file: display, record: missing.join(', ') }, `release(s) not in the Launchpad series list`);
  }
  return unique.filter((s) => wanted.includes(s.name));
}

/** Where the OVAL file of a release is kept in the mirror (under the ubuntu.oval part). */
export function ovalPath(name: string, bzip2: boolean): string {
  return `oval/com.ubuntu.${name}.cve.oval.xml${bzip2 ? '.bz2' : ''}`;
}

/** The URL claircore HEADs for a release. */
export function ovalProbeUrl(base: string, name: string): string {
  return new URL(`oval/com.ubuntu.${name}.cve.oval.xml`, base).href;
}

export function updaterName(name: string): string {
  return `ubuntu/updater/${name}`;
}
