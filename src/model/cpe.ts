/**
 * CPE names as claircore handles them (claircore toolkit/types/cpe: unbind.go, bind.go,
 * wfn.go; spec clair-updaters.md §2.5.1). A CPE is held as a WFN of 11 attributes; strings
 * are unbound from the 2.2 URI form (`cpe:/…`) or the 2.3 formatted string (`cpe:2.3:…`)
 * and bound back to the formatted string only.
 *
 * Set values keep the formatted-string escaping claircore keeps internally (`\.`, `\-`, …).
 * Go iterates strings by rune; all the rules below only look at ASCII code points, so JS
 * code-unit iteration gives the same result.
 */

export type CpeValueKind = 'unset' | 'any' | 'na' | 'set';

export interface CpeValue {
  readonly kind: CpeValueKind;
  /** Escaped value; '' unless kind is 'set'. */
  readonly v: string;
}

/** Well-formed name: exactly 11 attributes in CPE 2.3 binding order. */
export interface Wfn {
  readonly attr: readonly CpeValue[];
}

export const CPE_ATTRIBUTES = [
  'part', 'vendor', 'product', 'version', 'update', 'edition', 'language',
  'sw_edition', 'target_sw', 'target_hw', 'other',
] as const;

const NUM_ATTR = CPE_ATTRIBUTES.length;
const URI_PREFIX = 'cpe:/';
const FS_PREFIX = 'cpe:2.3:';

/** A string that is not a valid bound CPE. Model-level; feeds wrap it with file and record. */
export class CpeError extends Error {
  override name = 'CpeError';
}

const UNSET: CpeValue = Object.freeze({ kind: 'unset', v: '' });
const ANY: CpeValue = Object.freeze({ kind: 'any', v: '' });
const NA: CpeValue = Object.freeze({ kind: 'na', v: '' });

/** Unbinds either form, chosen by prefix (cpe.Unbind). The result is frozen and cached. */
export function unbindCpe(s: string): Wfn {
  const hit = cache.get(s);
  if (hit) return hit;
  let w: Wfn;
  if (s.startsWith(URI_PREFIX)) w = unbindUri(s);
  else if (s.startsWith(FS_PREFIX)) w = unbindFs(s);
  else throw new CpeError(`cpe: string does not appear to be a bound WFN: ${JSON.stringify(s)}`);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(s, Object.freeze({ attr: Object.freeze([...w.attr]) }));
  return cache.get(s)!;
}

/** Feeds repeat a few thousand CPEs across hundreds of thousands of entries. */
const CACHE_MAX = 10_000;
const cache = new Map<string, Wfn>();

// ---- URI (2.2) form -------------------------------------------------------------------

const URI_DISALLOWED = new Set('!"#$&\'()*+,/:;<=>?@[\\]^`{|}');

/**
 * Go strings.NewReplacer table of unbind.go `valueURI`: `.` `-` `~` get escaped, `%01`/`%02`
 * become `?`/`*`, and percent-encoded punctuation becomes its backslash escape. No key is a
 * prefix of another, so one left-to-right regex scan is the same replacement.
 */
const URI_REPLACEMENTS: Readonly<Record<string, string>> = {
  '.': '\\.', '-': '\\-', '~': '\\~', '%01': '?', '%02': '*',
  '%21': '\\!', '%22': '\\"', '%23': '\\#', '%24': '\\$', '%25': '\\%', '%26': '\\&', '%27': "\\'",
  '%28': '\\(', '%29': '\\)', '%2a': '\\*', '%2b': '\\+', '%2c': '\\,', '%2f': '\\/', '%3a': '\\:',
  '%3b': '\\;', '%3c': '\\<', '%3d': '\\=', '%3e': '\\>', '%3f': '\\?', '%40': '\\@', '%5b': '\\[',
  '%5c': '\\\\', '%5d': '\\]', '%5e': '\\^', '%60': '\\`', '%7b': '\\{', '%7c': '\\|', '%7d': '\\}', '%7e': '\\~',
};
const URI_PATTERN = /[.~-]|%(?:0[12]|2[1-9abcf]|3[a-f]|40|5[b-e]|60|7[b-e])/g;

function replaceUri(s: string): string {
  return s.replace(URI_PATTERN, (m) => URI_REPLACEMENTS[m]);
}

function unbindUriValue(s: string, attr: string): CpeValue {
  if (s === '') return ANY;
  if (s === '-') return NA;
  const lower = s.toLowerCase();
  for (const ch of lower) {
    if (URI_DISALLOWED.has(ch)) throw new CpeError(`cpe: ${attr}: disallowed character ${JSON.stringify(ch)}`);
  }
  return { kind: 'set', v: replaceUri(lower) };
}

/** CPE 2.2 URI → WFN, unpacking a `~`-packed edition (UnbindURI). */
export function unbindUri(s: string): Wfn {
  if (!s.startsWith(URI_PREFIX)) throw new CpeError('cpe: malformed CPE URI');
  const attr: CpeValue[] = Array.from({ length: NUM_ATTR }, (_, i) => (i < 7 ? ANY : UNSET));
  const comp = s.split(':');
  comp[1] = comp[1].replace(/^\//, '');
  comp.slice(1).forEach((c, i) => {
    if (i >= 7) throw new CpeError(`cpe: unexpected ${i}th component`);
    if (i === 5 && c.startsWith('~')) {
      const packed = [5, 7, 8, 9, 10];
      splitN(c, '~', 6).slice(1).forEach((p, j) => {
        attr[packed[j]] = unbindUriValue(p, CPE_ATTRIBUTES[packed[j]]);
      });
      return;
    }
    attr[i] = unbindUriValue(c, CPE_ATTRIBUTES[i]);
  });
  const w = { attr };
  validateWfn(w);
  return w;
}

/** Go strings.SplitN: at most n parts, the last holding the rest. */
function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  if (parts.length <= n) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

// ---- FS (2.3) form --------------------------------------------------------------------

/** Splits on colons not preceded by a backslash (splitFS, including its `\\:` quirk). */
function splitFs(s: string): string[] {
  const out: string[] = [];
  let prev = 0;
  let esc = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      esc = true;
      continue;
    }
    if (c === ':' && !esc) {
      out.push(s.slice(prev, i));
      prev = i + 1;
    }
    esc = false;
  }
  out.push(s.slice(prev));
  return out;
}

function unbindFsValue(s: string): string {
  let out = '';
  let esc = false;
  for (const r of s) {
    if (r === '\\') {
      esc = true;
      out += '\\';
      continue;
    }
    out += r === '*' || r === '?' || esc || !reserved(r) ? r : '\\' + r;
    esc = false;
  }
  return out;
}

/** CPE 2.3 formatted string → WFN (UnbindFS). */
export function unbindFs(s: string): Wfn {
  if (!s.startsWith(FS_PREFIX)) throw new CpeError('cpe: malformed CPE formatted string: bad prefix');
  const fs = splitFs(s);
  if (fs.length !== 13) throw new CpeError(`cpe: malformed CPE formatted string: bad components: ${fs.length} != 13`);
  const attr = fs.slice(2).map((c): CpeValue => {
    if (c === '') return UNSET;
    if (c === '-') return NA;
    if (c === '*') return ANY;
    return { kind: 'set', v: unbindFsValue(c) };
  });
  const w = { attr };
  validateWfn(w);
  return w;
}

// ---- validation and binding -----------------------------------------------------------

/** True for runes that need quoting in a CPE string (wfn.go `reserved`). */
function reserved(r: string): boolean {
  const c = r.codePointAt(0)!;
  return (c < 0x30 || c > 0x39) && (c < 0x41 || c > 0x5a) && (c < 0x61 || c > 0x7a) && r !== '_';
}

/** Go unicode.IsSpace. */
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** NISTIR 7695 §5.3.2 value validation, as wfn.go `validate`. */
function validateValue(s: string): void {
  if ([...s].some((r) => r.codePointAt(0)! >= 0x7f)) throw new CpeError('cpe: string contains non-ASCII characters');
  if (SPACE.test(s)) throw new CpeError('cpe: string contains space characters');
  if (s === '*') throw new CpeError('cpe: single asterisk MUST NOT be used by itself');
  if (s === '\\-') throw new CpeError('cpe: quoted hyphen MUST NOT be used by itself');
  let esc = false;
  let qRun = false;
  let atStart = true;
  const last = s.length - 1;
  for (let i = 0; i < s.length; i++) {
    const r = s[i];
    if (r === '\\') {
      esc = true;
      continue;
    }
    if (r === '*' && !esc && i !== 0 && i !== last) {
      throw new CpeError(`cpe: invalid position for special character: "*" at ${i}`);
    }
    if (r === '?' && !esc) qRun = true;
    if (r !== '*' && r !== '?' && reserved(r) && !esc) {
      throw new CpeError(`invalid unquoted character: ${JSON.stringify(r)} at ${i}`);
    }
    if (r !== '?') {
      if (qRun && !atStart) throw new CpeError(`cpe: invalid position for special character: "?" at ${i - 1}`);
      qRun = false;
      atStart = false;
    }
    esc = false;
  }
}

/** WFN.Valid: every value valid, not all unset, part one of a/o/h. Throws CpeError. */
export function validateWfn(w: Wfn): void {
  if (w.attr.length !== NUM_ATTR) throw new CpeError(`cpe: a WFN has ${NUM_ATTR} attributes`);
  w.attr.forEach((a, i) => {
    try {
      validateValue(a.v);
    } catch (err) {
      throw new CpeError(`cpe: wfn attribute "${CPE_ATTRIBUTES[i]}" is invalid: ${(err as Error).message}`);
    }
  });
  if (w.attr.every((a) => a.kind === 'unset')) throw new CpeError('cpe: wfn is empty');
  const part = w.attr[0];
  if (part.kind === 'set' && !['a', 'o', 'h'].includes(part.v)) {
    throw new CpeError(`cpe: wfn attribute "part" is invalid: ${JSON.stringify(part.v)} is a disallowed value`);
  }
}

/** Go's strings.Replacer over `\.` `\-` `\_` scans left to right, as a global regex does. */
function bindValue(a: CpeValue): string {
  if (a.kind === 'set') return a.v.replace(/\\([._-])/g, '$1');
  return a.kind === 'na' ? '-' : '*';
}

/** The CPE 2.3 formatted string (WFN.BindFS). */
export function bindFs(w: Wfn): string {
  return 'cpe:2.3:' + w.attr.map(bindValue).join(':');
}

/** `Repo.Name` of a VEX row: cpe.String(), '' for an all-unset WFN. */
export function cpeString(w: Wfn): string {
  return w.attr.every((a) => a.kind === 'unset') ? '' : bindFs(w);
}
