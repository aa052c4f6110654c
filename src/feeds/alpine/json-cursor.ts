import { createReadStream } from 'node:fs';

/**
 * A pull cursor over one JSON document read from a file in chunks, for feeds whose single
 * JSON file is too big to hold (Debian's tracker JSON) or whose records are best streamed
 * (Alpine's secdb). The caller walks the outer containers (`enterObject`/`nextKey`,
 * `enterArray`/`nextElement`) and takes each inner value whole with `readValue`, which finds
 * the value's extent and hands exactly those bytes to JSON.parse: only one record is ever in
 * memory. Syntax follows RFC 8259 like Go's encoding/json; as with Go's json.Decoder, bytes
 * after the first complete top-level value are not read. Used by the alpine and debian feeds.
 */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    /** Byte offset in the file. */
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

interface Frame {
  kind: 'object' | 'array';
  first: boolean;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class JsonCursor {
  private buf = Buffer.alloc(0);
  /** Read position inside `buf`. */
  private pos = 0;
  /** File offset of `buf[0]`. */
  private base = 0;
  private done = false;
  private readonly stack: Frame[] = [];
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly stream: ReturnType<typeof createReadStream>;

  constructor(file: string) {
    this.stream = createReadStream(file, { highWaterMark: 1 << 16 });
    this.chunks = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** File offset of the next unread byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  close(): void {
    this.stream.destroy();
  }

  /** The kind of the next value (after whitespace), without consuming it. */
  async peekKind(): Promise<JsonKind> {
    const c = await this.peekNonWs();
    switch (c) {
      case 0x7b: return 'object';
      case 0x5b: return 'array';
      case QUOTE: return 'string';
      case 0x74: case 0x66: return 'boolean';
      case 0x6e: return 'null';
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'number';
        throw this.unexpected(c, 'looking for beginning of value');
    }
  }

  /** Consumes `{`; then call nextKey() until it returns undefined. */
  async enterObject(): Promise<void> {
    const c = await this.peekNonWs();
    if (c !== 0x7b) throw this.unexpected(c, 'expecting an object');
    this.pos++;
    this.stack.push({ kind: 'object', first: true });
  }

  /** The next member's key (the caller then consumes its value), or undefined after `}`. */
  async nextKey(): Promise<string | undefined> {
    const top = this.top('object');
    let c = await this.peekNonWs();
    if (c === 0x7d && top.first) return this.leave();
    if (!top.first) {
      if (c === 0x7d) return this.leave();
      if (c !== 0x2c) throw this.unexpected(c, "after object value (expecting ',' or '}')");
      this.pos++;
      c = await this.peekNonWs();
    }
    if (c !== QUOTE) throw this.unexpected(c, 'looking for beginning of object key string');
    top.first = false;
    const start = this.offset;
    const key = JSON.parse(await this.scanString()) as string;
    c = await this.peekNonWs();
    if (c !== 0x3a) throw this.unexpected(c, `after object key ${JSON.stringify(key)} at byte ${start}`);
    this.pos++;
    return key;
  }

  /** Consumes `[`; then call nextElement() until it returns false. */
  async enterArray(): Promise<void> {
    const c = await this.peekNonWs();
    if (c !== 0x5b) throw this.unexpected(c, 'expecting an array');
    this.pos++;
    this.stack.push({ kind: 'array', first: true });
  }

  /** True when another element follows (the caller then consumes it); false after `]`. */
  async nextElement(): Promise<boolean> {
    const top = this.top('array');
    const c = await this.peekNonWs();
    if (c === 0x5d) {
      this.leave();
      return false;
    }
    if (!top.first) {
      if (c !== 0x2c) throw this.unexpected(c, "after array element (expecting ',' or ']')");
      this.pos++;
    }
    top.first = false;
    return true;
  }

  /** The next value, whole (JSON.parse of exactly its bytes). */
  async readValue(): Promise<unknown> {
    const start = this.offset;
    const text = await this.scanValue();
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new JsonSyntaxError(`invalid JSON value (${(err as Error).message})`, start);
    }
  }

  /** Consumes the next value, checking its syntax. */
  async skipValue(): Promise<void> {
    await this.readValue();
  }

  // ---- scanning -----------------------------------------------------------------------

  private top(kind: Frame['kind']): Frame {
    const t = this.stack.at(-1);
    if (!t || t.kind !== kind) throw new Error(`JsonCursor: not inside an ${kind}`);
    return t;
  }

  private leave(): undefined {
    this.pos++;
    this.stack.pop();
    return undefined;
  }

  /** Makes at least one more byte available; false at end of file. */
  private async more(): Promise<boolean> {
    if (this.done) return false;
    const { value, done } = await this.chunks.next();
    if (done) {
      this.done = true;
      return false;
    }
    // Keep only the unread tail (and anything a scan in progress still needs: see keepFrom).
    const keep = Math.min(this.pos, this.keepFrom ?? this.pos);
    this.buf = Buffer.concat([this.buf.subarray(keep), value]);
    this.base += keep;
    this.pos -= keep;
    if (this.keepFrom !== undefined) this.keepFrom -= keep;
    return true;
  }

  /** Start of a value being scanned, kept in the buffer across refills. */
  private keepFrom: number | undefined;

  private async peekNonWs(): Promise<number> {
    for (;;) {
      while (this.pos < this.buf.length && WS.has(this.buf[this.pos])) this.pos++;
      if (this.pos < this.buf.length) return this.buf[this.pos];
      if (!(await this.more())) return -1;
    }
  }

  /** Text of the string starting at pos (quotes included); pos ends after it. */
  private async scanString(): Promise<string> {
    this.keepFrom = this.pos;
    try {
      let i = this.pos + 1;
      for (;;) {
        while (i < this.buf.length) {
          const c = this.buf[i];
          if (c === QUOTE) {
            const text = this.buf.toString('utf8', this.keepFrom, i + 1);
            this.pos = i + 1;
            return text;
          }
          if (c === BACKSLASH) i++;
          else if (c < 0x20) throw new JsonSyntaxError('invalid character in string literal', this.base + i);
          i++;
        }
        const before = this.keepFrom;
        if (!(await this.more())) throw new JsonSyntaxError('unexpected end of JSON input', this.base + this.buf.length);
        i -= before - this.keepFrom;
      }
    } finally {
      this.keepFrom = undefined;
    }
  }

  /** Text of the value starting at the next non-space byte; pos ends after it. */
  private async scanValue(): Promise<string> {
    const first = await this.peekNonWs();
    if (first === -1) throw new JsonSyntaxError('unexpected end of JSON input', this.offset);
    if (first === QUOTE) return this.scanString();
    this.keepFrom = this.pos;
    try {
      let i = this.pos;
      let depth = 0;
      let inString = false;
      for (;;) {
        while (i < this.buf.length) {
          const c = this.buf[i];
          if (inString) {
            if (c === BACKSLASH) i++;
            else if (c === QUOTE) inString = false;
            i++;
            if (!inString && depth === 0) return this.take(i);
            continue;
          }
          if (c === QUOTE) inString = true;
          else if (c === 0x7b || c === 0x5b) depth++;
          else if (c === 0x7d || c === 0x5d) {
            depth--;
            if (depth < 0) return this.take(i);
            if (depth === 0) return this.take(i + 1);
          } else if (depth === 0 && (WS.has(c) || c === 0x2c)) return this.take(i);
          i++;
        }
        const before = this.keepFrom;
        if (!(await this.more())) {
          if (depth === 0 && !inString && i > this.keepFrom) return this.take(i);
          throw new JsonSyntaxError('unexpected end of JSON input', this.base + this.buf.length);
        }
        i -= before - this.keepFrom;
      }
    } finally {
      this.keepFrom = undefined;
    }
  }

  private take(end: number): string {
    const text = this.buf.toString('utf8', this.keepFrom, end);
    this.pos = end;
    return text;
  }

  private unexpected(c: number, context: string): JsonSyntaxError {
    if (c === -1) return new JsonSyntaxError('unexpected end of JSON input', this.offset);
    const shown = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
    return new JsonSyntaxError(`invalid character ${shown} ${context}`, this.offset);
  }
}

// ---- encoding/json rules for decoded values ---------------------------------------------

/** ASCII case-insensitive key match, as encoding/json matches struct field names. */
export function sameField(key: string, field: string): boolean {
  return key.length === field.length && key.replace(/[A-Z]/g, (c) => c.toLowerCase()) === field;
}

/** The value of the last key matching `field` (encoding/json: the last occurrence wins). */
export function field(obj: Record<string, unknown>, name: string): unknown {
  let v: unknown;
  for (const k of Object.keys(obj)) if (sameField(k, name)) v = obj[k];
  return v;
}

export function jsonKind(v: unknown): JsonKind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as JsonKind;
}
