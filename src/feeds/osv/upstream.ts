/**
 * The OSV advisory as claircore decodes it (updater/osv/schema.go) with Go's encoding/json:
 * keys match struct tags case-insensitively (the last matching key wins), `null` leaves the zero
 * value, a value of the wrong type is an error (after which claircore's whole parse aborts),
 * times are RFC 3339 strings, unknown keys are ignored, and only the first JSON value of an
 * entry is read (trailing bytes are never looked at).
 */
export class OsvDecodeError extends Error {
  constructor(message: string, readonly path: string) {
    super(message);
  }
}

export interface OsvEvent {
  introduced: string;
  fixed: string;
  lastAffected: string;
  limit: string;
}

export interface OsvRange {
  type: string;
  repo: string;
  events: OsvEvent[];
}

export interface OsvAffected {
  package: { ecosystem: string; name: string; purl: string };
  ranges: OsvRange[];
  versions: string[];
}

export interface OsvAdvisory {
  id: string;
  /** RFC 3339 UTC instants ('' = Go's zero time). */
  published: string;
  modified: string;
  withdrawn: string;
  aliases: string[];
  summary: string;
  severity: { type: string; score: string }[];
  affected: OsvAffected[];
  references: { type: string; url: string }[];
  /** database_specific, undecoded (`undefined` when absent or null). */
  databaseSpecific: unknown;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Go-style field lookup on an object: every key equal to `name` ignoring ASCII case; the last one wins. */
function field(obj: { [k: string]: Json }, name: string, keys: readonly string[]): Json | undefined {
  let found: Json | undefined;
  for (const k of keys) if (k.length === name.length && k.toLowerCase() === name) found = obj[k];
  return found;
}

function typeName(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

class Decoder {
  /** The first type error (Go keeps decoding and reports the first). */
  error: OsvDecodeError | undefined;

  fail(path: string, want: string, got: Json): void {
    this.error ??= new OsvDecodeError(`json: cannot unmarshal ${typeName(got)} into Go value of type ${want}`, path);
  }

  str(v: Json | undefined, path: string): string {
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    this.fail(path, 'string', v);
    return '';
  }

  time(v: Json | undefined, path: string): string {
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') {
      this.fail(path, 'time.Time', v);
      return '';
    }
    const t = parseRfc3339Strict(v);
    if (t === undefined) this.error ??= new OsvDecodeError(`parsing time ${JSON.stringify(v)} as RFC 3339 failed`, path);
    return t ?? '';
  }

  obj(v: Json | undefined, path: string): { o: { [k: string]: Json }; keys: string[] } | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.fail(path, 'struct', v);
      return undefined;
    }
    return { o: v, keys: Object.keys(v) };
  }

  arr<T>(v: Json | undefined, path: string, item: (x: Json, p: string) => T): T[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(path, 'slice', v);
      return [];
    }
    return v.map((x, i) => item(x, `${path}[${i}]`));
  }
}

/** Decodes one advisory; throws OsvDecodeError (claircore aborts the parse on it). */
export function decodeAdvisory(raw: Json): OsvAdvisory {
  const d = new Decoder();
  const root = d.obj(raw, '');
  const get = (o: { o: { [k: string]: Json }; keys: string[] } | undefined, name: string) => (o ? field(o.o, name, o.keys) : undefined);
  const strs = (v: Json | undefined, p: string) => d.arr(v, p, (x, q) => d.str(x, q));
  const out: OsvAdvisory = {
    id: d.str(get(root, 'id'), 'id'),
    published: d.time(get(root, 'published'), 'published'),
    modified: d.time(get(root, 'modified'), 'modified'),
    withdrawn: d.time(get(root, 'withdrawn'), 'withdrawn'),
    aliases: strs(get(root, 'aliases'), 'aliases'),
    summary: d.str(get(root, 'summary'), 'summary'),
    severity: d.arr(get(root, 'severity'), 'severity', (x, p) => {
      const o = d.obj(x, p);
      return { type: d.str(get(o, 'type'), `${p}.type`), score: d.str(get(o, 'score'), `${p}.score`) };
    }),
    affected: d.arr(get(root, 'affected'), 'affected', (x, p) => {
      const o = d.obj(x, p);
      const pkg = d.obj(get(o, 'package'), `${p}.package`);
      return {
        package: {
          ecosystem: d.str(get(pkg, 'ecosystem'), `${p}.package.ecosystem`),
          name: d.str(get(pkg, 'name'), `${p}.package.name`),
          purl: d.str(get(pkg, 'purl'), `${p}.package.purl`),
        },
        ranges: d.arr(get(o, 'ranges'), `${p}.ranges`, (y, q) => {
          const r = d.obj(y, q);
          return {
            type: d.str(get(r, 'type'), `${q}.type`),
            repo: d.str(get(r, 'repo'), `${q}.repo`),
            events: d.arr(get(r, 'events'), `${q}.events`, (z, s) => {
              const e = d.obj(z, s);
              return {
                introduced: d.str(get(e, 'introduced'), `${s}.introduced`),
                fixed: d.str(get(e, 'fixed'), `${s}.fixed`),
                lastAffected: d.str(get(e, 'last_affected'), `${s}.last_affected`),
                limit: d.str(get(e, 'limit'), `${s}.limit`),
              };
            }),
          };
        }),
        versions: strs(get(o, 'versions'), `${p}.versions`),
      };
    }),
    references: d.arr(get(root, 'references'), 'references', (x, p) => {
      const o = d.obj(x, p);
      return { type: d.str(get(o, 'type'), `${p}.type`), url: d.str(get(o, 'url'), `${p}.url`) };
    }),
    databaseSpecific: get(root, 'database_specific') ?? undefined,
  };
  // Fields claircore decodes but does not use still fail the decode on a wrong type.
  d.str(get(root, 'schema_version'), 'schema_version');
  d.str(get(root, 'details'), 'details');
  strs(get(root, 'related'), 'related');
  d.arr(get(root, 'credits'), 'credits', (x, p) => {
    const o = d.obj(x, p);
    d.str(get(o, 'name'), `${p}.name`);
    strs(get(o, 'contact'), `${p}.contact`);
    return null;
  });
  if (d.error) throw d.error;
  if (out.databaseSpecific === null) out.databaseSpecific = undefined;
  return out;
}

/**
 * Parses the first JSON value of an entry, as Go's json.Decoder.Decode does (bytes after it
 * are never read). Throws SyntaxError when there is no complete value.
 */
export function parseFirstJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    const end = firstValueEnd(text);
    if (end === undefined || end === text.length) throw err;
    return JSON.parse(text.slice(0, end)) as Json;
  }
}

/** Index just after the first complete JSON value (object, array, string or literal), if any. */
function firstValueEnd(s: string): number | undefined {
  let i = 0;
  while (i < s.length && ' \t\r\n'.includes(s[i])) i++;
  if (s[i] !== '{' && s[i] !== '[') {
    const m = /^(?:"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(s.slice(i));
    return m ? i + m[0].length : undefined;
  }
  let depth = 0;
  let inString = false;
  for (; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

/**
 * Go's time.Time.UnmarshalJSON (strict RFC 3339) to a UTC instant. Offsets are applied
 * (an offset of zero prints as UTC in Go when the process runs in UTC, as Clair does).
 */
export function parseRfc3339Strict(s: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number);
  const dim = mo === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(mo) ? 30 : 31;
  if (mo < 1 || mo > 12 || d < 1 || d > dim || h > 23 || mi > 59 || sec > 59) return undefined;
  const zone = m[8];
  let offset = 0;
  if (zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4));
    if (zh > 23 || zm > 59) return undefined;
    offset = (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm);
  }
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, sec, 0);
  t.setTime(t.getTime() - offset * 60_000);
  const frac = (m[7] ?? '').replace(/0+$/, '');
  return `${t.toISOString().slice(0, 19)}${frac ? '.' + frac : ''}Z`;
}
