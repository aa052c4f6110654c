import path from 'node:path';

/**
 * Mirror lists as claircore's aws Client reads them (aws/client.go getMirrors): the body with one
 * trailing `\n` removed, split on `\n`, each line url.Parse'd. A control character (a `\r` of a
 * CRLF list included) makes url.Parse fail, which fails claircore's run; a line Go parses but
 * cannot fetch from (empty, relative, another scheme) only makes that mirror fail. Each mirror's
 * files are `path.Join(<mirror path>, "/repodata/repomd.xml")` and `…/updateinfo.xml.gz`.
 */
export class MirrorListError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

export interface Mirror {
  /** 1-based line in the mirror list. */
  line: number;
  text: string;
  /** The URL, when it is one an HTTP client can fetch (http/https, absolute). */
  url?: URL;
}

export function parseMirrorList(body: Buffer): Mirror[] {
  let text = body.toString('utf8');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  return text.split('\n').map((line, i) => {
    const bad = /[\u0000-\u001f\u007f]/.exec(line);
    if (bad) throw new MirrorListError(`invalid control character 0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')} in URL ${JSON.stringify(line)}`, i + 1);
    if (/%(?![0-9A-Fa-f]{2})/.test(line.replace(/[?#].*$/, ''))) throw new MirrorListError(`invalid URL escape in ${JSON.stringify(line)}`, i + 1);
    let url: URL | undefined;
    try {
      const u = new URL(line);
      if ((u.protocol === 'http:' || u.protocol === 'https:') && /^[a-z][a-z0-9+.-]*:\/\//i.test(line)) url = u;
    } catch {
      // Not fetchable: claircore's request for it fails and it moves on to the next mirror.
    }
    return { line: i + 1, text: line, url };
  });
}

/** `<mirror>/repodata/<file>`, with Go's path.Join cleaning of the mirror's path. */
export function mirrorFile(mirror: URL, file: 'repomd.xml' | 'updateinfo.xml.gz'): URL {
  const u = new URL(mirror.href);
  u.pathname = path.posix.join(u.pathname || '/', '/repodata', file);
  u.hash = '';
  return u;
}

/** Where a mirror file is fetched from and kept: its part, the path under the part, the URL to request. */
export interface Located {
  part: string;
  rel: string;
  url: string;
}

/**
 * Maps an upstream URL onto the mirror: a URL under a part's default base URL (or its
 * configured one) is kept at its path under that part and fetched from the configured base
 * (so `--url aws.cdn=…` also redirects the mirrors a mirror list names); a URL on any other host
 * is fetched as is and kept under `<fallbackPart>/_hosts/<host>/<path>`.
 */
export function locate(url: URL, defaults: Readonly<Record<string, string>>, bases: Readonly<Record<string, string>>, fallbackPart: string): Located | undefined {
  const href = url.href.replace(/[?#].*$/, '');
  const query = url.search;
  for (const [part, def] of Object.entries(defaults)) {
    const base = bases[part] ?? def;
    for (const prefix of [def, base]) {
      if (href.startsWith(prefix)) {
        const rel = href.slice(prefix.length);
        return safe(rel) ? { part, rel, url: base + rel + query } : undefined;
      }
    }
  }
  const rel = `_hosts/${url.host}${url.pathname}`;
  return safe(rel) ? { part: fallbackPart, rel, url: url.href } : undefined;
}

function safe(rel: string): boolean {
  const segs = rel.split('/');
  return rel !== '' && !segs.some((s) => s === '' || s === '.' || s === '..');
}
