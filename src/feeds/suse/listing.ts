/**
 * The `href` values of the `<a>` elements of an HTML page, in document order, the way
 * claircore's SUSE factory sees them through golang.org/x/net/html (HTML5 tokenization):
 * case-insensitive tag and attribute names, quoted or unquoted values, character references
 * decoded, nothing inside comments, `<script>`/`<style>` (raw text) or `<textarea>`/`<title>`
 * (escapable raw text) counted as an element. Only the tokenizer rules an index page can
 * exercise are implemented; tree construction never removes an `<a>`, so it is not needed.
 */
export function anchorHrefs(html: string): string[] {
  const out: string[] = [];
  const n = html.length;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt === -1) break;
    i = lt + 1;
    if (html.startsWith('!--', i)) {
      // Comment: to `-->` (or `--!>`); `<!-->` and `<!--->` end at once.
      const body = i + 3;
      if (html.startsWith('>', body)) { i = body + 1; continue; }
      if (html.startsWith('->', body)) { i = body + 2; continue; }
      const end = commentEnd(html, body);
      i = end;
      continue;
    }
    if (html[i] === '!' || html[i] === '?') {
      // Doctype or bogus comment: to the next `>`.
      const gt = html.indexOf('>', i);
      i = gt === -1 ? n : gt + 1;
      continue;
    }
    if (html[i] === '/') {
      // End tag: skip to `>` (attributes in end tags are parsed and dropped).
      const tag = readTag(html, i + 1);
      i = tag.end;
      continue;
    }
    if (!isAsciiAlpha(html[i])) continue;
    const tag = readTag(html, i);
    i = tag.end;
    if (tag.name === 'a') {
      // Go's tokenizer keeps every attribute; the factory looks at each `href`.
      for (const [k, v] of tag.attrs) if (k === 'href') out.push(v);
    }
    if (RAW_TEXT.has(tag.name) && !tag.selfClosing) i = rawTextEnd(html, i, tag.name);
  }
  return out;
}

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext']);

function isAsciiAlpha(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z]/.test(c);
}

const SPACE = /[\t\n\f\r ]/;

function commentEnd(s: string, from: number): number {
  for (let j = from; j < s.length; j++) {
    if (s.startsWith('-->', j)) return j + 3;
    if (s.startsWith('--!>', j)) return j + 4;
  }
  return s.length;
}

/** Index after the end tag that closes a raw-text element (or the end of input). */
function rawTextEnd(s: string, from: number, name: string): number {
  if (name === 'plaintext') return s.length;
  const lower = s.toLowerCase();
  let j = from;
  for (;;) {
    const k = lower.indexOf(`</${name}`, j);
    if (k === -1) return s.length;
    const after = s[k + 2 + name.length];
    if (after === undefined || after === '>' || after === '/' || SPACE.test(after)) return k;
    j = k + 1;
  }
}

interface Tag {
  name: string;
  attrs: [string, string][];
  selfClosing: boolean;
  end: number;
}

/** A start or end tag beginning at its name; `end` is the index after its `>`. */
function readTag(s: string, from: number): Tag {
  let j = from;
  let name = '';
  while (j < s.length && s[j] !== '>' && s[j] !== '/' && !SPACE.test(s[j])) name += s[j++];
  const attrs: [string, string][] = [];
  let selfClosing = false;
  for (;;) {
    while (j < s.length && (SPACE.test(s[j]) || (s[j] === '/' && s[j + 1] !== '>'))) j++;
    if (j >= s.length) return { name: name.toLowerCase(), attrs, selfClosing, end: s.length };
    if (s[j] === '>') return { name: name.toLowerCase(), attrs, selfClosing, end: j + 1 };
    if (s[j] === '/' && s[j + 1] === '>') {
      selfClosing = true;
      return { name: name.toLowerCase(), attrs, selfClosing, end: j + 2 };
    }
    // Attribute name: up to whitespace, `/`, `>` or `=` (a leading `=` is part of the name).
    let key = s[j++];
    while (j < s.length && !SPACE.test(s[j]) && s[j] !== '/' && s[j] !== '>' && s[j] !== '=') key += s[j++];
    while (j < s.length && SPACE.test(s[j])) j++;
    let value = '';
    if (s[j] === '=') {
      j++;
      while (j < s.length && SPACE.test(s[j])) j++;
      const q = s[j];
      if (q === '"' || q === "'") {
        const close = s.indexOf(q, j + 1);
        const stop = close === -1 ? s.length : close;
        value = s.slice(j + 1, stop);
        j = close === -1 ? s.length : close + 1;
      } else {
        const start = j;
        while (j < s.length && !SPACE.test(s[j]) && s[j] !== '>') j++;
        value = s.slice(start, j);
      }
    }
    attrs.push([key.toLowerCase(), decodeReferences(value)]);
  }
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Character references in an attribute value (numeric, and the named ones listings use). */
function decodeReferences(v: string): string {
  return v.replace(/&(?:#[xX]([0-9A-Fa-f]+)|#([0-9]+)|([A-Za-z][A-Za-z0-9]*));?/g, (m, hex: string | undefined, dec: string | undefined, named: string | undefined) => {
    if (hex !== undefined || dec !== undefined) {
      const cp = parseInt(hex ?? dec!, hex !== undefined ? 16 : 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
    }
    return named !== undefined && Object.hasOwn(NAMED, named) && m.endsWith(';') ? NAMED[named] : m;
  });
}
