import path from 'node:path';
import { PurlError, parsePurl, type PackageUrl, type Qualifier } from '../../model/purl.js';

/**
 * Purl helpers parsed as packageurl-go v0.1.3 `FromString` + `Normalize` do (the release
 * claircore v1.5.48 builds with). It differs from v0.1.6 (src/model/purl.ts) in ways that can
 * change rows: the string goes through Go's url.Parse first, qualifier keys and values are
 * query-unescaped (`+` is a space), the namespace is split off before the version, the subpath
 * is percent-decoded, npm names are lowercased, and the type-specific checks differ.
 */
export function parsePurlFor(version: 'v0.1.3' | 'v0.1.6', s: string): PackageUrl {
  return version === 'v0.1.3' ? parsePurlV013(s) : parsePurl(s);
}

const TYPE = /^[A-Za-z.+-][0-9A-Za-z.+-]*$/;
const QUALIFIER_KEY = /^[A-Za-z._-][0-9A-Za-z._-]*$/;
const LOWER_NAMESPACE = new Set(['alpm', 'apk', 'bitbucket', 'composer', 'deb', 'github', 'golang', 'npm', 'rpm', 'qpkg']);
const LOWER_NAME = new Set(['alpm', 'apk', 'bitbucket', 'bitnami', 'composer', 'deb', 'github', 'golang', 'npm']);

export function parsePurlV013(purl: string): PackageUrl {
  const u = parseUrl(purl);
  if (u.scheme !== 'pkg') throw new PurlError(`purl scheme is not "pkg": ${JSON.stringify(u.scheme)}`);
  let p = u.opaque;
  if (p === '') p = path.posix.join(u.host, u.path).replace(/^\//, '');
  const slash = p.indexOf('/');
  if (slash === -1) throw new PurlError('purl is missing type or name');
  const type = p.slice(0, slash).toLowerCase();
  const qualifiers = parseQualifiers(u.rawQuery);
  const { namespace, name, version } = separateNamespaceNameVersion(p.slice(slash + 1));
  return normalize(type, namespace, name, version, qualifiers, u.fragment);
}

interface GoUrl {
  scheme: string;
  opaque: string;
  host: string;
  path: string;
  rawQuery: string;
  fragment: string;
}

/** The parts of Go's url.Parse FromString reads (opaque `scheme:rest` and `scheme://host/path` forms). */
function parseUrl(raw: string): GoUrl {
  let rest = raw;
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash !== -1) {
    fragment = unescape(rest.slice(hash + 1), false, 'fragment');
    rest = rest.slice(0, hash);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(rest)) throw new PurlError('failed to parse as URL: net/url: invalid control character in URL');
  let scheme = '';
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new PurlError('failed to parse as URL: missing protocol scheme');
      scheme = rest.slice(0, i).toLowerCase();
      rest = rest.slice(i + 1);
    }
    break;
  }
  let rawQuery = '';
  if (rest.endsWith('?') && rest.split('?').length === 2) {
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q !== -1) [rest, rawQuery] = [rest.slice(0, q), rest.slice(q + 1)];
  }
  if (!rest.startsWith('/') && scheme !== '') return { scheme, opaque: rest, host: '', path: '', rawQuery, fragment };
  let host = '';
  if (rest.startsWith('//')) {
    const end = rest.indexOf('/', 2);
    const authority = end === -1 ? rest.slice(2) : rest.slice(2, end);
    rest = end === -1 ? '' : rest.slice(end);
    const at = authority.lastIndexOf('@');
    host = unescape(at === -1 ? authority : authority.slice(at + 1), false, 'host');
  }
  return { scheme, opaque: '', host, path: unescape(rest, false, 'path'), rawQuery, fragment };
}

function separateNamespaceNameVersion(p: string): { namespace: string; name: string; version: string } {
  let name = p;
  let namespace = '';
  let version = '';
  const slash = name.lastIndexOf('/');
  if (slash !== -1) {
    namespace = unescape(name.slice(0, slash), false, 'namespace');
    name = name.slice(slash + 1);
  }
  const at = name.lastIndexOf('@');
  if (at !== -1) {
    version = unescape(name.slice(at + 1), false, 'version');
    name = name.slice(0, at);
  }
  name = unescape(name, false, 'name');
  if (name === '') throw new PurlError('purl is missing name');
  return { namespace, name, version };
}

function parseQualifiers(rawQuery: string): Qualifier[] {
  const out: Qualifier[] = [];
  for (const pair of rawQuery === '' ? [] : rawQuery.split('&')) {
    if (pair.includes(';')) throw new PurlError('invalid qualifiers: invalid semicolon separator in query');
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = unescape(eq === -1 ? pair : pair.slice(0, eq), true, 'qualifier key');
    if (!QUALIFIER_KEY.test(key)) throw new PurlError(`invalid qualifiers: invalid qualifier key: '${key}'`);
    const value = unescape(eq === -1 ? '' : pair.slice(eq + 1), true, 'qualifier value');
    out.push({ key: key.toLowerCase(), value });
  }
  return out;
}

function normalize(type: string, namespace: string, name: string, version: string, qs: Qualifier[], subpath: string): PackageUrl {
  if (!TYPE.test(type)) throw new PurlError(`invalid type ${JSON.stringify(type)}`);
  const qualifiers = qs
    .filter((q) => q.value !== '')
    .map((q) => ({ key: q.key.toLowerCase(), value: q.value }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const q of qualifiers) if (!QUALIFIER_KEY.test(q.key)) throw new PurlError(`invalid qualifiers: invalid qualifier key: ${JSON.stringify(q.key)}`);
  for (let i = 1; i < qualifiers.length; i++) {
    if (qualifiers[i - 1].key === qualifiers[i].key) throw new PurlError(`invalid qualifiers: duplicate qualifier key: ${JSON.stringify(qualifiers[i].key)}`);
  }
  subpath.split('/').forEach((seg, i) => {
    if ((seg === '.' || seg === '..') && i !== 0) throw new PurlError(`invalid Package URL subpath: ${JSON.stringify(subpath)}`);
  });
  const ns = trimSlashes(namespace);
  const out: PackageUrl = {
    type,
    namespace: LOWER_NAMESPACE.has(type) ? ns.toLowerCase() : ns,
    name: adjustName(type, name, qualifiers),
    version: type === 'huggingface' ? version.toLowerCase() : version,
    qualifiers,
    subpath: trimSlashes(subpath),
  };
  checkTypeRules(out);
  return out;
}

function adjustName(type: string, name: string, qs: readonly Qualifier[]): string {
  if (LOWER_NAME.has(type)) return name.toLowerCase();
  if (type === 'pypi') return name.replaceAll('_', '-').toLowerCase();
  if (type === 'mlflow') {
    const repo = qs.find((q) => q.key === 'repository_url')?.value;
    if (repo !== undefined && !repo.includes('azureml') && repo.includes('databricks')) return name.toLowerCase();
  }
  return name;
}

/** validCustomRules of packageurl-go v0.1.3. */
function checkTypeRules(p: PackageUrl): void {
  const channel = p.qualifiers.find((q) => q.key === 'channel');
  switch (p.type) {
    case 'conan':
      if (p.namespace !== '' && channel === undefined) throw new PurlError('channel qualifier does not exist');
      if (p.namespace === '' && channel !== undefined) throw new PurlError('namespace is required if channel is non empty');
      break;
    case 'swift':
      if (p.namespace === '') throw new PurlError('namespace is required');
      if (p.version === '') throw new PurlError('version is required');
      break;
    case 'cran':
      if (p.version === '') throw new PurlError('version is required');
      break;
  }
}

/** Go url.PathUnescape / url.QueryUnescape (`+` → space); `%XX` must be two hex digits. */
function unescape(s: string, query: boolean, what: string): string {
  if (!s.includes('%') && !(query && s.includes('+'))) return s;
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x2b && query) {
      out[n++] = 0x20;
      continue;
    }
    if (c !== 0x25) {
      out[n++] = c;
      continue;
    }
    const hex = src.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new PurlError(`error unescaping ${what}: invalid URL escape ${JSON.stringify(src.subarray(i, i + 3).toString('latin1'))}`);
    out[n++] = parseInt(hex, 16);
    i += 2;
  }
  return out.subarray(0, n).toString('utf8');
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}
