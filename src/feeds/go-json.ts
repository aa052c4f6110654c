/**
 * JSON exactly as Go's encoding/json reads and writes it, for enrichment records: claircore
 * hashes the raw bytes its enrichers produce (clair-matcher-db.md §2.3), so the bytes must be
 * Go's, not JavaScript's. Covers:
 *
 * - encoding (`goQuote`, `goFloat64`, `goCompact`): strings with HTML escaping of `<` `>` `&`,
 *   `\u2028`/`\u2029`, the short escapes Go uses (`\b \f \n \r \t`), `\u00XX` for other control
 *   bytes and `\ufffd` for each byte of invalid UTF-8; float64 as Go prints it (shortest
 *   round-trip digits, exponent form below 1e-6 and from 1e21 on, `-0`); json.Compact with
 *   HTML escaping, which is what json.Encoder does to a json.RawMessage (number literals and
 *   string escapes kept as written);
 * - decoding (`GoJsonReader`): RFC 8259 syntax as Go's scanner checks it, strings decoded the
 *   way Go decodes them (invalid UTF-8 → U+FFFD per byte, unpaired surrogate escapes → U+FFFD),
 *   raw value extents for json.RawMessage, and struct field matching (exact key, else Go's
 *   case folding; the last matching key wins).
 */

/** Malformed JSON; `offset` is a byte offset in the document. */
export class GoJsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
  }
}

/** A value of the wrong JSON type for the Go field it decodes into (json.UnmarshalTypeError). */
export class GoJsonTypeError extends Error {
  constructor(readonly value: string, readonly goType: string, readonly field: string, readonly offset: number) {
    super(`cannot unmarshal ${value} into Go value of type ${goType}${field ? ` (field ${field})` : ''} at byte ${offset}`);
  }
}

// ---- UTF-8 the way Go's unicode/utf8 sees it -----------------------------------------------

/**
 * Length of the valid UTF-8 sequence starting at `i` (1–4), or 0 when the byte at `i` starts no
 * valid sequence (Go's DecodeRune returns RuneError, 1 for it). Surrogates, overlong forms and
 * code points above U+10FFFF are invalid.
 */
export function utf8SeqLen(b: Uint8Array, i: number, end = b.length): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < end && b[i + k] >= lo && b[i + k] <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** Go's `string(bytes)` seen through range/DecodeRune: every invalid byte becomes one U+FFFD. */
export function goDecodeUtf8(b: Uint8Array, start = 0, end = b.length): string {
  let out = '';
  let run = start;
  let i = start;
  const dec = (s: number, e: number) => Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('utf8');
  while (i < end) {
    if (b[i] < 0x80) {
      i++;
      continue;
    }
    const n = utf8SeqLen(b, i, end);
    if (n > 0) {
      i += n;
      continue;
    }
    out += dec(run, i) + '\uFFFD';
    i++;
    run = i;
  }
  return out + dec(run, end);
}

/** True when the bytes are valid UTF-8 (as PostgreSQL requires of text and jsonb). */
export function isValidUtf8(b: Uint8Array, start = 0, end = b.length): boolean {
  for (let i = start; i < end;) {
    if (b[i] < 0x80) {
      i++;
      continue;
    }
    const n = utf8SeqLen(b, i, end);
    if (n === 0) return false;
    i += n;
  }
  return true;
}

// ---- encoding ------------------------------------------------------------------------------

const HEX = '0123456789abcdef';

/**
 * A JSON string literal as Go's encoder writes it with HTML escaping on (json.Marshal and a
 * default json.Encoder). A JS string is taken as its UTF-8 bytes; pass bytes to keep invalid
 * UTF-8 visible (Go writes `\ufffd` for each invalid byte).
 */
export function goQuote(s: string | Uint8Array): string {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  let out = '"';
  let run = 0;
  const flush = (i: number) => {
    if (i > run) out += Buffer.from(b.buffer, b.byteOffset + run, i - run).toString('utf8');
  };
  for (let i = 0; i < b.length;) {
    const c = b[i];
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c !== 0x3c && c !== 0x3e && c !== 0x26) {
        i++;
        continue;
      }
      flush(i);
      switch (c) {
        case 0x22: out += '\\"'; break;
        case 0x5c: out += '\\\\'; break;
        case 0x08: out += '\\b'; break;
        case 0x0c: out += '\\f'; break;
        case 0x0a: out += '\\n'; break;
        case 0x0d: out += '\\r'; break;
        case 0x09: out += '\\t'; break;
        default: out += '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
      }
      i++;
      run = i;
      continue;
    }
    const n = utf8SeqLen(b, i);
    if (n === 0) {
      flush(i);
      out += '\\ufffd';
      i++;
      run = i;
      continue;
    }
    if (n === 3 && c === 0xe2 && b[i + 1] === 0x80 && (b[i + 2] === 0xa8 || b[i + 2] === 0xa9)) {
      flush(i);
      out += b[i + 2] === 0xa8 ? '\\u2028' : '\\u2029';
      i += 3;
      run = i;
      continue;
    }
    i += n;
  }
  flush(b.length);
  return out + '"';
}

/**
 * A float64 as Go's encoding/json writes it: strconv 'f' format with the shortest round-trip
 * digits, or 'e' format (exponent without leading zeros) when |f| < 1e-6 or |f| >= 1e21.
 * JavaScript's Number-to-String picks the same digits and the same thresholds, so only the sign
 * of zero differs. NaN and ±Inf are an error in Go (json.UnsupportedValueError).
 */
export function goFloat64(f: number): string {
  if (!Number.isFinite(f)) throw new RangeError(`json: unsupported value: ${Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf'}`);
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  return String(f);
}

/**
 * json.Compact with HTML escaping, as json.Encoder applies it to a json.RawMessage: whitespace
 * outside strings removed, `<` `>` `&` and U+2028/U+2029 inside strings escaped, everything else
 * byte for byte (number spellings such as `5.0`, escapes such as `\/`). The input must be one
 * valid JSON value. Invalid UTF-8 is refused: PostgreSQL would refuse the jsonb anyway.
 */
export function goCompact(b: Uint8Array, start = 0, end = b.length): string {
  if (!isValidUtf8(b, start, end)) throw new GoJsonSyntaxError('invalid UTF-8 in JSON value', start);
  const parts: string[] = [];
  let run = start;
  let inString = false;
  const flush = (i: number) => {
    if (i > run) parts.push(Buffer.from(b.buffer, b.byteOffset + run, i - run).toString('utf8'));
  };
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (inString) {
      if (c === 0x5c) {
        i++;
      } else if (c === 0x22) {
        inString = false;
      } else if (c === 0x3c || c === 0x3e || c === 0x26) {
        flush(i);
        parts.push('\\u00' + HEX[c >> 4] + HEX[c & 0xf]);
        run = i + 1;
      } else if (c === 0xe2 && b[i + 1] === 0x80 && (b[i + 2] === 0xa8 || b[i + 2] === 0xa9)) {
        flush(i);
        parts.push(b[i + 2] === 0xa8 ? '\\u2028' : '\\u2029');
        i += 2;
        run = i + 1;
      }
      continue;
    }
    if (c === 0x22) {
      inString = true;
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      flush(i);
      run = i + 1;
    }
  }
  flush(end);
  return parts.join('');
}

/** A Go struct literal encoded by json.Marshal: `fields` in declaration order, values already encoded. */
export function goObject(fields: readonly (readonly [string, string])[]): string {
  return '{' + fields.map(([k, v]) => `${goQuote(k)}:${v}`).join(',') + '}';
}

// ---- decoding ------------------------------------------------------------------------------

export type GoJsonKind = 'object' | 'array' | 'string' | 'number' | 'bool' | 'null';

/** Go ≥ 1.21 foldName: ASCII letters upper-cased, other runes ToUpper(ToLower(r)). */
export function goFoldName(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out += cp >= 0x61 && cp <= 0x7a ? String.fromCharCode(cp - 32) : ch;
      continue;
    }
    const lower = ch.toLowerCase();
    const l = [...lower].length === 1 ? lower : ch;
    const upper = l.toUpperCase();
    out += [...upper].length === 1 ? upper : l;
  }
  return out;
}

/**
 * The Go struct field a JSON object key decodes into: the field whose name equals the key,
 * else the one equal under Go's case folding; undefined when none (the value is skipped).
 */
export function goField<F extends string>(key: string, fields: readonly F[]): F | undefined {
  for (const f of fields) if (f === key) return f;
  const folded = goFoldName(key);
  for (const f of fields) if (goFoldName(f) === folded) return f;
  return undefined;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/**
 * A pull reader over one JSON document held in memory, checking syntax as it goes (as Go's
 * decoder does before it assigns anything). `base` is added to offsets in error messages, for
 * documents cut out of a larger stream.
 */
export class GoJsonReader {
  pos: number;

  constructor(readonly buf: Uint8Array, start = 0, readonly end = buf.length, readonly base = 0) {
    this.pos = start;
  }

  /** Document offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  syntax(message: string, at = this.pos): GoJsonSyntaxError {
    return new GoJsonSyntaxError(message, this.base + at);
  }

  private ws(): void {
    while (this.pos < this.end) {
      const c = this.buf[this.pos];
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  /** The kind of the next value (whitespace skipped), without consuming it. */
  kind(): GoJsonKind {
    this.ws();
    if (this.pos >= this.end) throw this.syntax('unexpected end of JSON input');
    const c = this.buf[this.pos];
    switch (c) {
      case 0x7b: return 'object';
      case 0x5b: return 'array';
      case 0x22: return 'string';
      case 0x74: case 0x66: return 'bool';
      case 0x6e: return 'null';
      default:
        if (c === 0x2d || isDigit(c)) return 'number';
        throw this.unexpected('looking for beginning of value');
    }
  }

  /** True when the document has nothing but whitespace left. */
  atEnd(): boolean {
    this.ws();
    return this.pos >= this.end;
  }

  private unexpected(context: string): GoJsonSyntaxError {
    if (this.pos >= this.end) return this.syntax('unexpected end of JSON input');
    const c = this.buf[this.pos];
    const shown = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
    return this.syntax(`invalid character ${shown} ${context}`);
  }

  /** Iterates an object: `member(key)` must consume the value. */
  object(member: (key: string, keyOffset: number) => void): void {
    this.ws();
    if (this.buf[this.pos] !== 0x7b) throw this.unexpected('expecting an object');
    this.pos++;
    this.ws();
    if (this.buf[this.pos] === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.buf[this.pos] !== 0x22) throw this.unexpected('looking for beginning of object key string');
      const keyOffset = this.offset;
      const key = this.string();
      this.ws();
      if (this.buf[this.pos] !== 0x3a) throw this.unexpected('after object key');
      this.pos++;
      member(key, keyOffset);
      this.ws();
      const c = this.buf[this.pos];
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        return;
      }
      throw this.unexpected("after object key:value pair (expecting ',' or '}')");
    }
  }

  /** Iterates an array: `element(index)` must consume the value. */
  array(element: (index: number) => void): void {
    this.ws();
    if (this.buf[this.pos] !== 0x5b) throw this.unexpected('expecting an array');
    this.pos++;
    this.ws();
    if (this.buf[this.pos] === 0x5d) {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      element(i);
      this.ws();
      const c = this.buf[this.pos];
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        return;
      }
      throw this.unexpected("after array element (expecting ',' or ']')");
    }
  }

  /** A string value, decoded as Go decodes it. */
  string(): string {
    this.ws();
    if (this.buf[this.pos] !== 0x22) throw this.unexpected('expecting a string');
    const b = this.buf;
    let i = this.pos + 1;
    let out = '';
    let run = i;
    const flush = (to: number) => {
      if (to > run) out += goDecodeUtf8(b, run, to);
    };
    for (;;) {
      if (i >= this.end) throw this.syntax('unexpected end of JSON input', i);
      const c = b[i];
      if (c === 0x22) {
        flush(i);
        this.pos = i + 1;
        return out;
      }
      if (c < 0x20) throw this.syntax('invalid character in string literal', i);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      flush(i);
      if (i + 1 >= this.end) throw this.syntax('unexpected end of JSON input', i + 1);
      const e = b[i + 1];
      switch (e) {
        case 0x22: out += '"'; i += 2; break;
        case 0x5c: out += '\\'; i += 2; break;
        case 0x2f: out += '/'; i += 2; break;
        case 0x62: out += '\b'; i += 2; break;
        case 0x66: out += '\f'; i += 2; break;
        case 0x6e: out += '\n'; i += 2; break;
        case 0x72: out += '\r'; i += 2; break;
        case 0x74: out += '\t'; i += 2; break;
        case 0x75: {
          const r = this.u4(i + 2);
          i += 6;
          if (r >= 0xd800 && r < 0xe000) {
            // A high surrogate followed by an escaped low one is a pair; anything else is U+FFFD.
            const r2 = r < 0xdc00 && b[i] === 0x5c && b[i + 1] === 0x75 ? this.u4Soft(i + 2) : -1;
            if (r2 >= 0xdc00 && r2 < 0xe000) {
              out += String.fromCharCode(r, r2);
              i += 6;
            } else {
              out += '\uFFFD';
            }
          } else {
            out += String.fromCharCode(r);
          }
          break;
        }
        default:
          this.pos = i + 1;
          throw this.unexpected('in string escape code');
      }
      run = i;
    }
  }

  private u4(at: number): number {
    let r = 0;
    for (let k = 0; k < 4; k++) {
      if (at + k >= this.end) throw this.syntax('unexpected end of JSON input', at + k);
      const h = hexVal(this.buf[at + k]);
      if (h < 0) {
        this.pos = at + k;
        throw this.unexpected('in \\u hexadecimal character escape');
      }
      r = r * 16 + h;
    }
    return r;
  }

  /** The four hex digits at `at`, or -1 (no error: the escape is checked when it is read). */
  private u4Soft(at: number): number {
    if (at + 4 > this.end) return -1;
    let r = 0;
    for (let k = 0; k < 4; k++) {
      const h = hexVal(this.buf[at + k]);
      if (h < 0) return -1;
      r = r * 16 + h;
    }
    return r;
  }

  /** A number literal, checked against JSON's grammar; returns its text. */
  number(): string {
    this.ws();
    const b = this.buf;
    const start = this.pos;
    let i = start;
    if (b[i] === 0x2d) i++;
    if (i >= this.end) throw this.syntax('unexpected end of JSON input', i);
    if (b[i] === 0x30) i++;
    else if (b[i] >= 0x31 && b[i] <= 0x39) while (i < this.end && isDigit(b[i])) i++;
    else {
      this.pos = i;
      throw this.unexpected('in numeric literal');
    }
    if (i < this.end && b[i] === 0x2e) {
      i++;
      if (i >= this.end || !isDigit(b[i])) {
        this.pos = i;
        throw this.unexpected('after decimal point in numeric literal');
      }
      while (i < this.end && isDigit(b[i])) i++;
    }
    if (i < this.end && (b[i] === 0x65 || b[i] === 0x45)) {
      i++;
      if (i < this.end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
      if (i >= this.end || !isDigit(b[i])) {
        this.pos = i;
        throw this.unexpected('in exponent of numeric literal');
      }
      while (i < this.end && isDigit(b[i])) i++;
    }
    this.pos = i;
    return Buffer.from(b.buffer, b.byteOffset + start, i - start).toString('latin1');
  }

  /** `true` or `false`. */
  bool(): boolean {
    this.ws();
    if (this.word('true')) return true;
    if (this.word('false')) return false;
    throw this.unexpected('in literal true or false');
  }

  /** Consumes `null` if it is next; true then. */
  null(): boolean {
    this.ws();
    if (this.buf[this.pos] !== 0x6e) return false;
    if (!this.word('null')) throw this.unexpected('in literal null (expecting \'u\')');
    return true;
  }

  private word(w: string): boolean {
    for (let k = 0; k < w.length; k++) {
      if (this.pos + k >= this.end || this.buf[this.pos + k] !== w.charCodeAt(k)) return false;
    }
    this.pos += w.length;
    return true;
  }

  /** Skips one value, checking its syntax. */
  skip(): void {
    switch (this.kind()) {
      case 'object': this.object(() => this.skip()); return;
      case 'array': this.array(() => this.skip()); return;
      case 'string': this.skipString(); return;
      case 'number': this.number(); return;
      case 'bool': this.bool(); return;
      case 'null': if (!this.null()) throw this.unexpected('in literal null'); return;
    }
  }

  private skipString(): void {
    const b = this.buf;
    let i = this.pos + 1;
    for (;;) {
      if (i >= this.end) throw this.syntax('unexpected end of JSON input', i);
      const c = b[i];
      if (c === 0x22) {
        this.pos = i + 1;
        return;
      }
      if (c < 0x20) throw this.syntax('invalid character in string literal', i);
      if (c === 0x5c) {
        // Checked escapes without building the string.
        const e = b[i + 1];
        if (e === 0x75) {
          this.u4(i + 2);
          i += 6;
          continue;
        }
        if (i + 1 >= this.end) throw this.syntax('unexpected end of JSON input', i + 1);
        if (![0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74].includes(e)) {
          this.pos = i + 1;
          throw this.unexpected('in string escape code');
        }
        i += 2;
        continue;
      }
      i++;
    }
  }

  /** Skips one value and returns its byte extent (what a json.RawMessage holds). */
  raw(): [start: number, end: number] {
    this.ws();
    const start = this.pos;
    this.skip();
    return [start, this.pos];
  }

  /**
   * A string field of a Go struct: the decoded string, undefined for `null` (Go leaves the
   * field as it was), a type error for anything else.
   */
  goString(field: string): string | undefined {
    const k = this.kind();
    if (k === 'string') return this.string();
    if (k === 'null') {
      this.null();
      return undefined;
    }
    throw this.typeError(k, 'string', field);
  }

  /** An int field (Go `int`, 64-bit): undefined for `null`; a type error for fractions, exponents, overflow or other kinds. */
  goInt(field: string): number | bigint | undefined {
    const k = this.kind();
    const at = this.pos;
    if (k === 'null') {
      this.null();
      return undefined;
    }
    if (k !== 'number') throw this.typeError(k, 'int', field);
    const text = this.number();
    if (!/^-?\d+$/.test(text)) throw new GoJsonTypeError(`number ${text}`, 'int', field, this.base + at);
    const n = BigInt(text);
    if (n < -(1n << 63n) || n >= 1n << 63n) throw new GoJsonTypeError(`number ${text}`, 'int', field, this.base + at);
    return Number.isSafeInteger(Number(n)) ? Number(n) : n;
  }

  typeError(kind: GoJsonKind, goType: string, field: string): GoJsonTypeError {
    const value = kind === 'bool' ? 'bool' : kind;
    return new GoJsonTypeError(value, goType, field, this.offset);
  }
}

/**
 * Why PostgreSQL would refuse an enrichment claircore hands it (the insert fails and with it
 * the whole update), or undefined: a NUL in a tag (text[]), or a `\u0000` escape in the JSON
 * (jsonb cannot hold it).
 */
export function enrichmentStoreProblem(tags: readonly string[], json: string): string | undefined {
  if (tags.some((t) => t.includes('\u0000'))) return 'a tag contains a NUL character, which PostgreSQL text cannot store';
  if (/(?:^|[^\\])(?:\\\\)*\\u0000/.test(json)) return 'the JSON holds a \\u0000 escape, which PostgreSQL jsonb refuses';
  return undefined;
}

const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/** Go strings.TrimSpace (Unicode White_Space; unlike String.prototype.trim, U+FEFF is kept and U+0085 trimmed). */
export function goTrimSpace(s: string): string {
  return s.replace(GO_TRIM, '');
}
