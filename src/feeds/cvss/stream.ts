import { GoJsonReader, GoJsonSyntaxError } from '../go-json.js';

/**
 * A pull reader over a JSON document arriving in chunks (a gunzip stream), for NVD's yearly
 * feeds, which are too large to hold whole: the caller walks the top-level object and the
 * `vulnerabilities` array, and takes every other value whole (`value()`), as the exact bytes of
 * that value handed to a GoJsonReader. Only one element is ever buffered.
 */
export class JsonByteStream {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Document offset of buf[0]. */
  private base = 0;
  private done = false;
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(input: AsyncIterable<Buffer>) {
    this.chunks = input[Symbol.asyncIterator]();
  }

  get offset(): number {
    return this.base + this.pos;
  }

  private async more(keepFrom: number): Promise<boolean> {
    if (this.done) return false;
    const { value, done } = await this.chunks.next();
    if (done) {
      this.done = true;
      return false;
    }
    this.buf = Buffer.concat([this.buf.subarray(keepFrom), value]);
    this.base += keepFrom;
    this.pos -= keepFrom;
    return true;
  }

  /** The next non-whitespace byte (not consumed), or -1 at the end of the input. */
  async peek(): Promise<number> {
    for (;;) {
      while (this.pos < this.buf.length) {
        const c = this.buf[this.pos];
        if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
        this.pos++;
      }
      if (!(await this.more(this.pos))) return -1;
    }
  }

  /** Consumes the byte peek() returned. */
  take(): void {
    this.pos++;
  }

  error(message: string): GoJsonSyntaxError {
    return new GoJsonSyntaxError(message, this.offset);
  }

  async expect(c: number, context: string): Promise<void> {
    const got = await this.peek();
    if (got !== c) throw this.unexpected(got, context);
    this.pos++;
  }

  unexpected(c: number, context: string): GoJsonSyntaxError {
    if (c === -1) return this.error('unexpected end of JSON input');
    const shown = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
    return this.error(`invalid character ${shown} ${context}`);
  }

  /**
   * The next value, whole, as a reader over exactly its bytes (syntax is checked by whoever reads
   * it; the extent found here only follows strings and brackets).
   */
  async value(): Promise<GoJsonReader> {
    const first = await this.peek();
    if (first === -1) throw this.error('unexpected end of JSON input');
    if (first === 0x5d || first === 0x7d || first === 0x2c || first === 0x3a) throw this.unexpected(first, 'looking for beginning of value');
    let i = this.pos;
    let depth = 0;
    let inString = false;
    for (;;) {
      while (i < this.buf.length) {
        if (inString) {
          // The closing quote: the next '"' not preceded by an odd run of backslashes.
          const q = this.buf.indexOf(0x22, i);
          if (q === -1) {
            i = this.buf.length;
            break;
          }
          let bs = 0;
          while (q - 1 - bs >= this.pos && this.buf[q - 1 - bs] === 0x5c) bs++;
          i = q + 1;
          if (bs % 2 === 1) continue;
          inString = false;
          if (depth === 0) return this.cut(i);
          continue;
        }
        const c = this.buf[i];
        if (c === 0x22) {
          if (depth === 0 && i > this.pos) return this.cut(i);
          inString = true;
        } else if (c === 0x7b || c === 0x5b) {
          if (depth === 0 && i > this.pos) return this.cut(i);
          depth++;
        } else if (c === 0x7d || c === 0x5d) {
          if (depth === 0) return this.cut(i);
          depth--;
          if (depth === 0) return this.cut(i + 1);
        } else if (depth === 0 && (c === 0x2c || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x3a)) {
          return this.cut(i);
        }
        i++;
      }
      const before = this.pos;
      if (!(await this.more(this.pos))) {
        if (depth === 0 && !inString) return this.cut(this.buf.length);
        throw new GoJsonSyntaxError('unexpected end of JSON input', this.base + this.buf.length);
      }
      i -= before - this.pos;
    }
  }

  private cut(end: number): GoJsonReader {
    const bytes = Buffer.from(this.buf.subarray(this.pos, end));
    const r = new GoJsonReader(bytes, 0, bytes.length, this.offset);
    this.pos = end;
    return r;
  }

  /** A whole value that must be exactly one JSON value (checked). */
  async checkedValue(): Promise<GoJsonReader> {
    const r = await this.value();
    const start = r.pos;
    r.skip();
    if (!r.atEnd()) throw r.syntax('invalid character after top-level value');
    r.pos = start;
    return r;
  }
}
