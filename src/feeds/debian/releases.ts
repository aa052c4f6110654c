import { ConfigError } from '../../errors.js';
import type { Distribution } from '../../model/vulnerability.js';

/**
 * Which Debian releases claircore's debian factory registers (claircore debian/updater.go
 * findReleases, releases.go): every link of the `dists/` listing that is not skipped by name,
 * whose `dists/<codename>/Release` (first 513 bytes, a Range request) has a `Version:` header
 * with a `.`; the major is the integer before the first `.`.
 */
export const RELEASES_OPTION = 'debian-releases';

/** claircore skipList: link text containing any of these is not a codename. */
export const SKIP_WORDS = ['-', 'Debian', 'sid', 'stable', 'testing', 'experimental', 'README', 'updates', 'backports'] as const;

/** claircore asks for `Range: bytes=0-512` and reads the headers from what it gets. */
export const RELEASE_HEAD_BYTES = 513;

/** Codenames we also store files under: one plain path segment. */
const SAFE_CODENAME = /^[A-Za-z0-9][A-Za-z0-9._+~]*$/;

/** The skip word a codename contains, if any. */
export function skipWord(codename: string): string | undefined {
  return SKIP_WORDS.find((w) => codename.includes(w));
}

/**
 * Codenames from the `dists/` listing: each `href="…"`, minus links starting with `/` or `?`
 * and links containing a skip word, with `/` trimmed from both ends; each once, in listing
 * order. Links that are not one plain path segment are dropped too (claircore would request
 * odd URLs for them and ignore the failure).
 */
export function listingCodenames(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/href="([^"]+)"/g)) {
    const link = m[1];
    if (link[0] === '/' || link[0] === '?' || skipWord(link)) continue;
    const name = link.replace(/^\/+|\/+$/g, '');
    if (SAFE_CODENAME.test(name) && !out.includes(name)) out.push(name);
  }
  return out;
}

export type ReleaseVersion = { major: number } | { skip: string };

/**
 * The major version claircore reads from the start of a Release file: Go's
 * textproto.ReadMIMEHeader over `head + "\r\n\r\n"`, `Version` header, split on `.`, then
 * strconv.ParseInt(first, 10, 32). `skip` says why claircore would not register the release.
 */
export function releaseMajor(head: Buffer): ReleaseVersion {
  const headers = readMimeHeader(Buffer.concat([head.subarray(0, RELEASE_HEAD_BYTES), Buffer.from('\r\n\r\n')]).toString('latin1'));
  if ('error' in headers) return { skip: `unable to read MIME-ish headers: ${headers.error}` };
  const version = headers.get('Version')?.[0] ?? '';
  if (version === '') return { skip: 'no version assigned' };
  const parts = version.split('.');
  if (parts.length === 1) return { skip: 'no version assigned' };
  const major = parseInt32(parts[0]);
  if (major === undefined) return { skip: `unable to parse version ${JSON.stringify(parts[0])}` };
  return { major };
}

/** Go strconv.ParseInt(s, 10, 32). */
export function parseInt32(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

/**
 * Go net/textproto ReadMIMEHeader over a latin1 string (one char per byte): header lines up to
 * the first blank line, continuation lines (leading space or tab) joined with one space, keys
 * canonicalised (`version` → `Version`) unless they contain a space. Any malformed line is an
 * error, as in Go.
 */
export function readMimeHeader(text: string): Map<string, string[]> | { error: string } {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const m = new Map<string, string[]>();
  if (lines[0] !== undefined && (lines[0].startsWith(' ') || lines[0].startsWith('\t'))) {
    return { error: `malformed MIME header initial line: ${JSON.stringify(lines[0])}` };
  }
  let i = 0;
  for (;;) {
    const first = lines[i++];
    // The appended "\r\n\r\n" guarantees a blank line before the end.
    if (first === undefined || first === '') return m;
    if (!first.includes(':')) return { error: `malformed MIME header: missing colon: ${JSON.stringify(first)}` };
    let kv = trimSpaceTab(first);
    while (i < lines.length && (lines[i].startsWith(' ') || lines[i].startsWith('\t'))) {
      kv += ' ' + trimSpaceTab(lines[i]);
      i++;
    }
    const colon = kv.indexOf(':');
    const key = canonicalKey(kv.slice(0, colon));
    const value = kv.slice(colon + 1);
    if (key === undefined || [...value].some((c) => !validValueChar(c.charCodeAt(0)))) {
      return { error: `malformed MIME header line: ${JSON.stringify(kv)}` };
    }
    const list = m.get(key) ?? [];
    list.push(value.replace(/^[ \t]+/, ''));
    m.set(key, list);
  }
}

function trimSpaceTab(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, '');
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;

/** Go canonicalMIMEHeaderKey: undefined when invalid; kept as is when it contains a space. */
function canonicalKey(k: string): string | undefined {
  if (k === '') return undefined;
  let space = false;
  for (const c of k) {
    if (TOKEN.test(c)) continue;
    if (c === ' ') {
      space = true;
      continue;
    }
    return undefined;
  }
  if (space) return k;
  let upper = true;
  let out = '';
  for (const c of k) {
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return out;
}

/** Go validHeaderValueByte: HTAB, SP, VCHAR and obs-text (0x80–0xFF). */
function validValueChar(b: number): boolean {
  return b === 0x09 || (b >= 0x20 && b <= 0x7e) || b >= 0x80;
}

/** claircore mkDist(codename, major). */
export function debianDist(codename: string, major: number): Distribution {
  return {
    did: 'debian',
    name: 'Debian GNU/Linux',
    version: `${major} (${codename})`,
    versionCodeName: codename,
    versionId: String(major),
    arch: '',
    cpe: '',
    prettyName: `Debian GNU/Linux ${major} (${codename})`,
  };
}

/**
 * `--option debian-releases=bookworm,trixie`: codenames to use instead of the `dists/` listing.
 * Undefined when absent. Names must be one plain path segment.
 */
export function releasesOption(options: Readonly<Record<string, string>>): string[] | undefined {
  const raw = options[RELEASES_OPTION];
  if (raw === undefined) return undefined;
  const names = [...new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  if (names.length === 0) throw new ConfigError(`${RELEASES_OPTION}: no release given`, { hint: 'e.g. --option debian-releases=bookworm,trixie' });
  for (const n of names) {
    if (!SAFE_CODENAME.test(n)) throw new ConfigError(`${RELEASES_OPTION}: ${JSON.stringify(n)} is not a Debian codename`, { hint: 'codenames look like bookworm, comma-separated' });
  }
  return names;
}
