/**
 * Package URLs parsed exactly as packageurl-go v0.1.6 `FromString` + `Normalize` do
 * (spec clair-updaters.md §2.5.2), since claircore's VEX parser keys, names and versions come
 * from it. Hand-written rather than taken from packageurl-js because the Go library differs
 * from the JS one in ways that change rows: qualifiers with empty values are dropped, a
 * duplicate key is an error, the subpath is not percent-decoded, `+` stays `+`.
 */

export interface Qualifier {
  readonly key: string;
  readonly value: string;
}

export interface PackageUrl {
  readonly type: string;
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  /** Sorted by key, keys unique, no empty values. */
  readonly qualifiers: readonly Qualifier[];
  readonly subpath: string;
}

/** A string packageurl-go refuses. Model-level; feeds wrap it with file and record. */
export class PurlError extends Error {
  override name = 'PurlError';
}

const TYPE = /^[A-Za-z.+-][0-9A-Za-z.+-]*$/;
const QUALIFIER_KEY = /^[A-Za-z._-][0-9A-Za-z._-]*$/;
const LOWER_NAMESPACE = new Set(['alpm', 'apk', 'bitbucket', 'composer', 'deb', 'github', 'golang', 'rpm', 'qpkg']);
const LOWER_NAME = new Set(['alpm', 'apk', 'bitbucket', 'bitnami', 'chrome-extension', 'composer', 'deb', 'github', 'golang']);

export function parsePurl(purl: string): PackageUrl {
  if (purl.length < 4 || toLowerAscii(purl.slice(0, 4)) !== 'pkg:') {
    throw new PurlError(`purl scheme is not "pkg": ${JSON.stringify(purl)}`);
  }
  let rest = purl.slice(4).replace(/^\/+/, '');
  let subpath = '';
  const hash = rest.indexOf('#');
  if (hash !== -1) [rest, subpath] = [rest.slice(0, hash), rest.slice(hash + 1)];
  let rawQuery = '';
  const q = rest.indexOf('?');
  if (q !== -1) [rest, rawQuery] = [rest.slice(0, q), rest.slice(q + 1)];
  const slash = rest.indexOf('/');
  if (slash === -1) throw new PurlError('purl is missing type or name');
  const type = toLowerAscii(rest.slice(0, slash));
  const qualifiers = parseQualifiers(rawQuery);
  const { namespace, name, version } = splitNamespaceNameVersion(type, rest.slice(slash + 1));
  return normalize({ type, namespace, name, version, qualifiers, subpath });
}

/** The value of a qualifier, or undefined when absent. */
export function qualifier(p: PackageUrl, key: string): string | undefined {
  return p.qualifiers.find((q) => q.key === key)?.value;
}

function splitNamespaceNameVersion(type: string, remainder: string) {
  if (type !== 'npm' && remainder.startsWith('@')) throw new PurlError('purl is missing name');
  let version = '';
  const at = remainder.lastIndexOf('@');
  if (at > 0) {
    version = percentDecode(remainder.slice(at + 1), 'version');
    remainder = remainder.slice(0, at);
  }
  const slash = remainder.lastIndexOf('/');
  const name = percentDecode(remainder.slice(slash + 1), 'name');
  const ns = slash >= 0 ? remainder.slice(0, slash) : '';
  const namespace = ns
    .split('/')
    .filter((seg) => seg !== '')
    .map((seg) => percentDecode(seg, 'namespace'))
    .join('/');
  if (name === '') throw new PurlError('purl is missing name');
  return { namespace, name, version };
}

function parseQualifiers(rawQuery: string): Qualifier[] {
  const out: Qualifier[] = [];
  for (const pair of rawQuery === '' ? [] : rawQuery.split('&')) {
    if (pair.includes(';')) throw new PurlError('invalid qualifiers: invalid semicolon separator in query');
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = (eq === -1 ? pair : pair.slice(0, eq)).toLowerCase();
    if (!QUALIFIER_KEY.test(key)) throw new PurlError(`invalid qualifiers: invalid qualifier key: '${key}'`);
    const raw = eq === -1 ? '' : pair.slice(eq + 1);
    out.push({ key, value: percentDecode(raw, 'qualifier value') });
  }
  return out;
}

function normalizeQualifiers(qs: readonly Qualifier[]): Qualifier[] {
  const kept = qs
    .filter((q) => q.value !== '')
    .map((q) => {
      const key = toLowerAscii(q.key);
      if (!QUALIFIER_KEY.test(key)) throw new PurlError(`invalid qualifiers: invalid qualifier key: ${JSON.stringify(key)}`);
      return { key, value: q.value };
    })
    .sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 1; i < kept.length; i++) {
    if (kept[i - 1].key === kept[i].key) throw new PurlError(`invalid qualifiers: duplicate qualifier key: ${JSON.stringify(kept[i].key)}`);
  }
  return kept;
}

/** PackageURL.Normalize. */
function normalize(p: PackageUrl): PackageUrl {
  const type = p.type.toLowerCase();
  if (!TYPE.test(type)) throw new PurlError(`invalid type ${JSON.stringify(type)}`);
  const namespace = trimSlashes(p.namespace);
  const qualifiers = normalizeQualifiers(p.qualifiers);
  if (p.name === '') throw new PurlError('purl is missing name');
  p.subpath.split('/').forEach((seg, i) => {
    if ((seg === '.' || seg === '..') && i !== 0) throw new PurlError(`invalid Package URL subpath: ${JSON.stringify(p.subpath)}`);
  });
  const out: PackageUrl = {
    type,
    namespace: LOWER_NAMESPACE.has(type) ? namespace.toLowerCase() : namespace,
    name: adjustName(type, p.name, qualifiers),
    version: type === 'huggingface' ? p.version.toLowerCase() : p.version,
    qualifiers,
    subpath: trimSlashes(p.subpath),
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

/** validCustomRules of packageurl-go v0.1.6. */
function checkTypeRules(p: PackageUrl): void {
  const fail = (msg: string) => {
    throw new PurlError(msg);
  };
  switch (p.type) {
    case 'chrome-extension':
      if (p.namespace !== '') fail('a chrome-extension purl must not have a namespace');
      if (!/^[a-z]{32}$/.test(p.name)) fail('a chrome-extension name must be 32 lowercase ASCII letters');
      if (p.version !== '' && !/^\d+(\.\d+){0,3}$/.test(p.version)) fail('a chrome-extension version must be 1 to 4 dot-separated integers');
      break;
    case 'cpan':
      if (p.namespace === '') fail('a cpan purl must have a namespace');
      if (p.namespace.toUpperCase() !== p.namespace) fail('a cpan purl namespace must use uppercase characters');
      if (p.name.includes('::')) fail("a cpan distribution name must not contain '::'");
      break;
    case 'julia':
      if (p.namespace !== '') fail('a julia purl must not have a namespace');
      if (!p.qualifiers.some((q) => q.key === 'uuid')) fail('a julia purl must have a uuid qualifier');
      break;
    case 'otp':
      if (p.namespace !== '') fail('an otp purl must not have a namespace');
      break;
    case 'swift':
    case 'vscode-extension':
      if (p.namespace === '') fail('namespace is required');
      break;
  }
}

/** Go url.PathUnescape: `%XX` must be two hex digits; `+` stays `+`. Works on UTF-8 bytes. */
function percentDecode(s: string, what: string): string {
  if (!s.includes('%')) return s;
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    if (src[i] !== 0x25) {
      out[n++] = src[i];
      continue;
    }
    const hex = src.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
      throw new PurlError(`error unescaping ${what}: invalid URL escape ${JSON.stringify(src.subarray(i, i + 3).toString('latin1'))}`);
    }
    out[n++] = parseInt(hex, 16);
    i += 2;
  }
  return out.subarray(0, n).toString('utf8');
}

function toLowerAscii(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

/** Go strings.Compare (byte order; equals UTF-16 order for the ASCII keys allowed here). */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
