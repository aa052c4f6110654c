import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { firstInvalidUtf8, incompleteTail } from '../bundle/file-check.js';
import { BundleError } from '../errors.js';

/**
 * What a conversion holds a bundle CSV to, in place of FileCheck's own pass over it (a
 * checkedReadStream that only hashes: src/bundle/verify.ts): the same problems, found at the same
 * record, with judgeScan's errors. `header`: the file's first line as the builder writes it;
 * `rows`: its records after the header.
 */
export interface CsvCheck {
  fields: number;
  header: string;
  rows?: number;
}

/**
 * What gives each converted record its extra field: a number for the record's first field (`buf`
 * from `start` to `end`, in COPY's text format), 0 for NULL. KeyOrdinals (src/load/alias-ordinals.ts)
 * numbers an alias file by its keys file; LineNumbers numbers records by their line.
 */
export interface Numbering {
  ordOf(buf: Buffer, start: number, end: number): number;
  finish(): void;
  close(): void;
}

/**
 * Each record's number in its file, from 1 (the header left out): a keys file's lines
 * (stage_row_key.ord), which the loader writes instead of a sequence in the database (measured:
 * 8.9 M keys copied in 6.7 s with the column given, 8.5 s with an identity column filling it).
 * `shift`: each number plus that (the vuln ids of the records copied straight into vuln).
 */
export class LineNumbers implements Numbering {
  /** `none`: the records (by number, from 1) that get no number but NULL. */
  constructor(private readonly shift = 0, private readonly none?: { has(record: number): boolean }) {}
  private n = 0;
  ordOf(): number {
    const record = ++this.n;
    return this.none?.has(record) ? 0 : this.shift + record;
  }
  finish(): void {}
  close(): void {}
}

export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const NEWLINE = 0x0a;
export const CR = 0x0d;
const TAB = 0x09;
const BACKSLASH = 0x5c;
/** Past this many bytes a quoted field is searched with Buffer#indexOf instead of byte by byte. */
export const SHORT_FIELD = 64;
/** Numbering: a first field carried over a chunk's end is kept up to this many bytes. */
const MAX_CARRIED = 1024;
/** The bytes that end a quoted field's plain run: a quote, and those COPY text format escapes. */
const STOP = new Uint8Array(256);
for (const b of [QUOTE, BACKSLASH, NEWLINE, CR, TAB]) STOP[b] = 1;

// States: at a field's start; inside an unquoted field; inside a quoted field; just after a quote
// inside a quoted field (an escaped quote, or the closing one).
export const START = 0;
export const UNQUOTED = 1;
export const QUOTED = 2;
export const AFTER_QUOTE = 3;

// What CsvToCopyText and CsvToCopyBinary refuse in a CSV, in FileCheck's words.
export const STRAY_QUOTE = 'a stray quote inside a quoted field';
export const QUOTE_IN_UNQUOTED = 'a quote inside an unquoted field';
export const CR_OUTSIDE_QUOTES = 'a carriage return outside a quoted field';
/** A record's first two unquoted bytes when they are `\.` (CsvToCopyText's `lead`). */
const END_OF_DATA = 0x5c2e;

/**
 * Writes `n` at `out[o]` as a COPY text field, its decimal digits, or `\N` (NULL) for 0; returns the
 * offset after it. (The caller made room: at most 16 digits for a safe integer.)
 */
export function writeNumber(out: Buffer, o: number, n: number): number {
  if (n <= 0) {
    out[o] = BACKSLASH;
    out[o + 1] = 0x4e; // N
    return o + 2;
  }
  let digits = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
  for (let k = o + digits - 1, v = n; k >= o; k--, v = Math.floor(v / 10)) out[k] = 0x30 + (v % 10);
  return o + digits;
}

/** `out` with its first `used` bytes, in a buffer with room for at least `more` after them. */
export function grown(out: Buffer, used: number, more: number): Buffer<ArrayBuffer> {
  const bigger = Buffer.allocUnsafe(Math.max(2 * out.length, used + more));
  out.copy(bigger, 0, 0, used);
  return bigger;
}

/** COPY text format's escape for a byte inside a field, or 0 when it stands for itself. */
function escapeOf(b: number): number {
  return b === BACKSLASH ? BACKSLASH : b === NEWLINE ? 0x6e : b === CR ? 0x72 : b === TAB ? 0x74 : 0;
}

/** `value` as one field of COPY's text format: its backslashes, tabs, newlines and CRs escaped. */
export function copyTextField(value: string): Buffer {
  const raw = Buffer.from(value);
  const out: number[] = [];
  for (const b of raw) {
    const e = escapeOf(b);
    if (e) out.push(BACKSLASH, e);
    else out.push(b);
  }
  return Buffer.from(out);
}

/**
 * A pass over CsvToCopyText's output, whole records at a time: `records` gets each chunk's complete
 * records (`buf` up to `end`, just after a newline) and returns what goes on in their place; a
 * record cut at a chunk's end waits for the next chunk. CsvToCopyText ends every record with a
 * newline, so output ending without one fails the stream (`unfinished`).
 */
export abstract class CopyTextRecords extends Transform {
  private carry: Buffer | undefined;

  protected abstract records(buf: Buffer, end: number): Buffer;
  protected abstract unfinished(): Error;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
      const end = buf.lastIndexOf(NEWLINE) + 1;
      this.carry = end < buf.length ? Buffer.from(buf.subarray(end)) : undefined;
      if (end > 0) this.push(this.records(buf, end));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.carry ? this.unfinished() : null);
  }
}

/**
 * A bundle CSV (RFC 4180, as COPY … (FORMAT csv, HEADER true) reads it) turned into COPY's text
 * format, which PostgreSQL parses in about 60 % of the time it takes for CSV (the loader's backend,
 * one core, is what a load waits for; this runs in node, on the other). Field for field the same
 * values: an unquoted empty field is NULL (`\N`), a quoted one the empty string; a field's
 * backslashes, tabs, newlines and CRs are escaped; records end with '\n'. The header (the first
 * record) is dropped, so PostgreSQL's "line N" of the output is the file's line N + 1 in COPY's CSV
 * numbering. What COPY's CSV mode would reject that this cannot pass on, an unterminated quoted field
 * or a CR outside quotes (after a header ended by '\n'), fails the stream with the file and record
 * (BundleError, exit 3).
 */
export class CsvToCopyText extends Transform {
  /** Records read, the header included (for the record an error names). */
  protected records = 0;
  protected state = START;
  /** The last byte read did not end a record (a last record may lack its newline). */
  protected open = false;
  /** Numbering: the first field's output of a record begun in an earlier chunk, and whether it ended. */
  private first: Buffer | undefined;
  private firstEnded = false;
  /** Check: delimiters read in the current record; its first unquoted bytes (up to 2, for a `\.` line). */
  protected commas = 0;
  protected lead = 0;
  protected leadBytes = 0;
  /** Check: the bytes of a UTF-8 sequence a chunk ended in, judged with the next; the header so far. */
  private pending: Buffer | undefined;
  private header: string | undefined = '';

  /**
   * `numbering`: each record gets one more field, the number `numbering` gives its first field
   * (an alias file's hash: src/load/alias-ordinals.ts; a keys file's line: LineNumbers), NULL for 0.
   */
  constructor(protected readonly file: string, protected readonly numbering?: Numbering, protected readonly check?: CsvCheck) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      const out = this.convert(this.check ? this.checked(chunk) : chunk);
      if (out.length) this.push(out);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.header !== undefined && this.check) done(this.wrongHeader());
    else if (this.pending) done(this.cutAtTheEnd(this.pending));
    else if (this.state === QUOTED) done(this.fail('an unterminated quoted field'));
    else {
      try {
        // A last record without its newline (its last field NULL if it ends with a delimiter).
        if (this.open) {
          const out = this.convert(Buffer.from('\n'));
          if (out.length) this.push(out);
        }
        const rows = this.records - 1;
        if (this.check?.rows !== undefined && rows !== this.check.rows) {
          throw new BundleError(`${this.file} holds ${rows} rows, the manifest says ${this.check.rows}`, { place: { file: this.file } });
        }
        this.numbering?.finish();
        done();
      } catch (err) {
        done(err as Error);
      }
    }
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.numbering?.close();
    done(err);
  }

  /**
   * Check, at a record's end: an unquoted `\.` line (its first unquoted bytes `lead`, `leadBytes`
   * of them, and no delimiter), or not `fields` fields (`commas` delimiters).
   */
  protected checkRecord(fields: number, commas: number, lead: number, leadBytes: number): void {
    if (commas === 0 && leadBytes === 2 && lead === END_OF_DATA) throw this.fail('an unquoted \\. line (COPY would stop reading there)');
    if (commas + 1 !== fields) throw this.fail(`${commas + 1} fields, expected ${fields}`);
  }

  /** (Records are numbered from the first after the header, as judgeScan numbers them.) */
  protected fail(what: string): BundleError {
    const record = `record ${this.records}`;
    return new BundleError(`${this.file} ${record}: ${what}`, { place: { file: this.file, record } });
  }

  /**
   * Check: the file ends in `bytes`, which begin a UTF-8 sequence without its end, or are not UTF-8
   * (FileCheck's verdict: an invalid byte, else what the record they end makes of them).
   */
  private cutAtTheEnd(bytes: Buffer): Error {
    try {
      if (firstInvalidUtf8(bytes) < 0) {
        this.convert(bytes);
        if (this.state === QUOTED) return this.fail('an unterminated quoted field');
        this.convert(Buffer.from('\n'));
      }
      return this.fail('invalid UTF-8');
    } catch (err) {
      return err as Error;
    }
  }

  private wrongHeader(): BundleError {
    return new BundleError(`${this.file} has an unexpected CSV header`, { place: { file: this.file, record: 'line 1' } });
  }

  /**
   * Check: the chunk's bytes to convert, those up to a UTF-8 sequence it ends in (which waits for
   * the next chunk), once found free of NUL bytes and valid UTF-8 (node:buffer's isUtf8), and the
   * header compared once its line is in. A problem fails the stream after the bytes before it are
   * converted, so the error names the record it is in.
   */
  private checked(chunk: Buffer): Buffer {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const end = data.length - incompleteTail(data, 0);
    this.pending = end < data.length ? Buffer.from(data.subarray(end)) : undefined;
    const body = data.subarray(0, end);
    if (this.header !== undefined) {
      const nl = body.indexOf(NEWLINE);
      this.header += body.toString('utf8', 0, nl < 0 ? body.length : nl + 1);
      if (nl >= 0 || this.header.length > this.check!.header.length) {
        if (this.header !== this.check!.header) throw this.wrongHeader();
        this.header = undefined;
      }
    }
    if (body.indexOf(0) < 0 && isUtf8(body)) return body;
    // The first byte that is not valid UTF-8 where it is (a NUL byte in a sequence is one), or else
    // the NUL byte, with the bytes kept for the next chunk (which may be the ones at fault).
    this.pending = undefined;
    const bad = firstInvalidUtf8(data);
    const nul = data.indexOf(0);
    const invalid = nul < 0 || (bad >= 0 && bad <= nul);
    this.convert(data.subarray(0, invalid ? Math.max(bad, 0) : nul));
    throw this.fail(invalid ? 'invalid UTF-8' : 'a NUL byte');
  }

  /** A record open at a chunk's end: its first field's output so far, kept for its number. */
  private carryFirst(out: Buffer, recordAt: number, firstAt: number, o: number): void {
    if (this.firstEnded) return;
    const part = out.subarray(recordAt >= 0 ? recordAt : 0, firstAt >= 0 ? firstAt : o);
    // (A field longer than any hash is not one: what is kept of it cannot be numbered.)
    this.first = Buffer.concat([this.first ?? Buffer.alloc(0), part.subarray(0, MAX_CARRIED + 1)]);
    this.firstEnded = firstAt >= 0;
  }

  /** The number of a record begun in an earlier chunk (its first field ends at `firstAt` here). */
  private carriedOrd(numbering: Numbering, out: Buffer, firstAt: number): number {
    const field = this.firstEnded ? this.first! : Buffer.concat([this.first ?? Buffer.alloc(0), out.subarray(0, firstAt)]);
    // (Asked even then, with no bytes, so that a numbering that counts records misses none.)
    return numbering.ordOf(field, 0, field.length > MAX_CARRIED ? 0 : field.length);
  }

  protected convert(buf: Buffer): Buffer {
    const n = buf.length;
    // A byte gives at most one byte out, except an escaped one (two) and a NULL field's delimiter
    // (`\N` and the delimiter, three): before those, `out` is made to hold them and one byte for
    // each byte still to read. A bundle's quotes alone make up for its few escapes and NULLs.
    let out: Buffer<ArrayBuffer> = Buffer.allocUnsafe(n + (n >> 5) + 64);
    let o = 0;
    let i = 0;
    let state = this.state;
    // Next positions of the bytes a quoted field must escape (n: none left in this chunk; -1: unknown).
    let nextBackslash = -1;
    let nextNewline = -1;
    let nextCr = -1;
    let nextTab = -1;
    // Numbering: where the current record's output starts (-1: in an earlier chunk) and where its
    // first field's ends (-1: not yet).
    const numbering = this.numbering;
    let recordAt = this.open ? -1 : 0;
    let firstAt = -1;
    // Check (fields > 0): the record's delimiters and its first unquoted bytes.
    const fields = this.check?.fields ?? 0;
    let commas = this.commas;
    let lead = this.lead;
    let leadBytes = this.leadBytes;
    const after = (b: number, from: number) => {
      const p = buf.indexOf(b, from);
      return p < 0 ? n : p;
    };
    while (i < n) {
      if (state === QUOTED) {
        // Short fields (most of a record) byte by byte.
        const limit = Math.min(n, i + SHORT_FIELD);
        let k = i;
        let b = 0;
        while (k < limit) {
          b = buf[k];
          if (STOP[b] === 1) break;
          out[o++] = b;
          k++;
        }
        i = k;
        let end: number;
        if (k < limit) end = k;
        else {
          // A long one: to its next quote or byte to escape, copied in one piece.
          const q = buf.indexOf(QUOTE, k);
          if (nextBackslash < k) nextBackslash = after(BACKSLASH, k);
          if (nextNewline < k) nextNewline = after(NEWLINE, k);
          if (nextCr < k) nextCr = after(CR, k);
          if (nextTab < k) nextTab = after(TAB, k);
          end = Math.min(q < 0 ? n : q, nextBackslash, nextNewline, nextCr, nextTab);
        }
        if (end > i) {
          buf.copy(out, o, i, end);
          o += end - i;
        }
        i = end;
        if (end === n) break;
        b = buf[end];
        i++;
        if (b === QUOTE) {
          state = AFTER_QUOTE;
          continue;
        }
        if (o + 2 + n - i > out.length) out = grown(out, o, 2 + n - i);
        out[o++] = BACKSLASH; // a byte STOP lists, other than the quote
        out[o++] = escapeOf(b);
        continue;
      }
      const b = buf[i++];
      if (state === AFTER_QUOTE) {
        if (b === QUOTE) {
          out[o++] = QUOTE; // a doubled quote
          state = QUOTED;
          continue;
        }
        if (fields && b !== COMMA && b !== NEWLINE) {
          this.state = state;
          throw this.fail(STRAY_QUOTE);
        }
        state = UNQUOTED; // closed; what follows (COPY's CSV mode reads on) up to the delimiter
      }
      if (b === COMMA) {
        commas++;
        if (state === START) {
          if (o + 3 + n - i > out.length) out = grown(out, o, 3 + n - i);
          out[o++] = BACKSLASH;
          out[o++] = 0x4e; // N
        }
        if (firstAt < 0) firstAt = o;
        out[o++] = TAB;
        state = START;
      } else if (b === NEWLINE) {
        if (state === START) {
          if (o + 3 + n - i > out.length) out = grown(out, o, 3 + n - i);
          out[o++] = BACKSLASH;
          out[o++] = 0x4e;
        }
        if (fields && this.records > 0) this.checkRecord(fields, commas, lead, leadBytes);
        commas = 0;
        lead = 0;
        leadBytes = 0;
        if (numbering && this.records > 0) {
          if (firstAt < 0) firstAt = o;
          const ord = recordAt >= 0 ? numbering.ordOf(out, recordAt, firstAt) : this.carriedOrd(numbering, out, firstAt);
          if (o + 24 + n - i > out.length) out = grown(out, o, 24 + n - i);
          out[o++] = TAB;
          o = writeNumber(out, o, ord);
        }
        out[o++] = NEWLINE;
        state = START;
        this.records++;
        if (this.records === 1) o = 0; // the header's bytes are not passed on
        recordAt = o;
        firstAt = -1;
        this.first = undefined;
        this.firstEnded = false;
      } else if (b === CR) {
        this.state = state;
        throw this.fail(CR_OUTSIDE_QUOTES);
      } else if (state === START && b === QUOTE) state = QUOTED;
      else {
        if (fields) {
          if (b === QUOTE) {
            this.state = state;
            throw this.fail(QUOTE_IN_UNQUOTED);
          }
          if (commas === 0 && leadBytes < 3) {
            lead = (lead << 8) | b;
            leadBytes++;
          }
        }
        state = UNQUOTED;
        const e = escapeOf(b);
        if (e) {
          if (o + 2 + n - i > out.length) out = grown(out, o, 2 + n - i);
          out[o++] = BACKSLASH;
          out[o++] = e;
        } else out[o++] = b;
      }
    }
    this.state = state;
    this.commas = commas;
    this.lead = lead;
    this.leadBytes = leadBytes;
    if (n > 0) this.open = state !== START || buf[n - 1] !== NEWLINE;
    if (numbering && this.open) this.carryFirst(out, recordAt, firstAt, o);
    // Still inside the header: nothing of it goes out.
    if (this.records === 0) return out.subarray(0, 0);
    return out.subarray(0, o);
  }
}
