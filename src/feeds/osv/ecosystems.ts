import { ConfigError, feedErrors } from '../../errors.js';
import { normalizeEcosystem } from './convert.js';

/**
 * ecosystems.txt → the updaters claircore's OSV factory makes (spec clair-updaters.md §9):
 * normalised names, first raw line per name, the ignore list, and the allowlist
 * (`--option osv-ecosystems=pypi,maven`, claircore's `allowlist`).
 */
export const FEED = 'osv';
export const PART = 'osv';
export const DEFAULT_BASE_URL = 'https://osv-vulnerabilities.storage.googleapis.com/';
export const ECOSYSTEMS_FILE = 'ecosystems.txt';
export const ECOSYSTEMS_OPTION = 'osv-ecosystems';

export const IGNORED_ECOSYSTEMS: ReadonlySet<string> = new Set([
  'almalinux', 'alpine', 'android', 'chainguard', 'debian', 'github actions', 'linux', 'opensuse', 'oss-fuzz', 'red hat',
  'rocky linux', 'suse', 'ubuntu', 'wolfi',
]);

export const feedError = feedErrors(FEED);

export interface Ecosystem {
  /** Normalised name (`pypi`); the updater is `osv/<name>`. */
  name: string;
  /** The first raw ecosystems.txt line with that name (`PyPI`): the dump directory. */
  raw: string;
}

/** The allowlist option, lowercased; undefined = every ecosystem. */
export function allowlistOption(options: Readonly<Record<string, string>>): string[] | undefined {
  const raw = options[ECOSYSTEMS_OPTION];
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (names.length === 0) throw new ConfigError(`${ECOSYSTEMS_OPTION}: no ecosystem named`, { hint: `e.g. --option ${ECOSYSTEMS_OPTION}=pypi,maven` });
  return [...new Set(names)];
}

/**
 * The ecosystems to update. An allowlisted name that ecosystems.txt does not list (or that
 * claircore ignores) is an error naming ecosystems.txt and the name: no such OSV updater exists.
 */
export function selectEcosystems(text: string, allow: string[] | undefined, display: string): Ecosystem[] {
  const seen = new Set<string>();
  const out: Ecosystem[] = [];
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const name = normalizeEcosystem(raw);
    if (seen.has(name)) return;
    seen.add(name);
    if (IGNORED_ECOSYSTEMS.has(name)) return;
    if (raw === '' || raw === '.' || raw === '..' || /[/\\\0-\x1f\x7f]/.test(raw)) {
      throw feedError({ file: display, record: `line ${i + 1}` }, `ecosystem ${JSON.stringify(raw)} is not usable as a dump directory name`);
    }
    if (allow && !allow.includes(name)) return;
    out.push({ name, raw });
  });
  if (allow) {
    const unknown = allow.filter((a) => !out.some((e) => e.name === a));
    if (unknown.length) {
      throw feedError({ file: display, record: unknown.join(', ') }, `unknown OSV ecosystem (not listed, or ignored by claircore)`);
    }
  }
  return out;
}

/** Mirror path of an ecosystem's dump. */
export function dumpPath(e: Ecosystem): string {
  return `${e.raw}/all.zip`;
}

/** claircore's URL: the root joined with the raw line (path-escaped) and all.zip. */
export function dumpUrl(base: string, e: Ecosystem): string {
  return new URL(`${encodeURIComponent(e.raw).replace(/%3A/gi, ':').replace(/%40/g, '@')}/all.zip`, base).href;
}
