import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** What one pass over a bundle file found. */
export interface FileScan {
  sha256: string;
  size: number;
  /** CSV records, header included (CSV files only). */
  records: number;
  /** The first line of the file, newline included (at most 64 KiB; CSV files only). */
  header: string;
  /** The first thing PostgreSQL's COPY would misread, for CSV files (record = 1-based, header = 1). */
  problem?: { record: number; what: string };
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const HEADER_LIMIT = 65536;

/**
 * One streaming pass over a bundle file: sha256, size, and for CSV files (`fields` = columns)
 * the records and the first thing PostgreSQL's COPY would stumble over or silently misread: a NUL
 * byte or invalid UTF-8 (COPY rejects them), a stray quote or a record with the wrong number of
 * fields (rows shifted), and an unquoted `\.` line, which COPY FROM STDIN takes for the end of the
 * data and then drops every row after it without an error.
 *
 * Bytes inside quoted fields (nearly all of a bundle) are skipped with Buffer#indexOf, and a chunk
 * free of NUL bytes that is valid UTF-8 (node:buffer isUtf8) is not checked byte by byte; only a
 * chunk with a problem is walked byte by byte to find the record. `slow` forces that walk (tests).
 */
export class FileCheck {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private records = 0;
  private problem: FileScan['problem'];
  // CSV state: 0 field start, 1 unquoted field, 2 quoted field, 3 quote seen inside a quoted field.
  private state = 0;
  private commas = 0;
  private lineStart = ''; // the first bytes of a record, to spot a lone \.
  private header = '';
  private headerDone = false;
  private readonly utf8: Utf8 = { need: 0, min: 0x80, max: 0xbf };

  constructor(private readonly fields?: number, private readonly slow = false) {}

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.fields === undefined || this.problem) return;
    if (!this.headerDone) this.collectHeader(chunk);
    let i = 0;
    // Finish a UTF-8 sequence the previous chunk began.
    while (this.utf8.need > 0 && i < chunk.length && !this.problem) this.walk(chunk, i, ++i);
    const end = chunk.length - incompleteTail(chunk, i);
    if (!this.slow && chunk.indexOf(0, i) < 0 && isUtf8(chunk.subarray(i, end))) this.skim(chunk, i, end);
    else this.walk(chunk, i, end);
    this.walk(chunk, end, chunk.length);
  }

  finish(): FileScan {
    if (this.fields !== undefined && !this.problem) {
      if (this.state === 2) this.flag('an unterminated quoted field');
      else if (this.state !== 0 || this.commas > 0) this.endRecord(); // a last record without a newline
      if (this.utf8.need > 0) this.flag('invalid UTF-8');
    }
    return { sha256: this.hash.digest('hex'), size: this.size, records: this.records, header: this.header, problem: this.problem };
  }

  /** The first problem found so far (CSV files), to stop a stream early. */
  get firstProblem(): FileScan['problem'] {
    return this.problem;
  }

  private collectHeader(chunk: Buffer): void {
    const nl = chunk.indexOf(NEWLINE);
    const take = nl < 0 ? chunk : chunk.subarray(0, nl + 1);
    this.header += take.toString('latin1');
    if (nl >= 0 || this.header.length >= HEADER_LIMIT) {
      this.headerDone = true;
      this.header = Buffer.from(this.header.slice(0, HEADER_LIMIT), 'latin1').toString('utf8');
    }
  }

  private flag(what: string): void {
    this.problem ??= { record: this.records + 1, what };
  }

  private endRecord(): void {
    if (/^\\\.\r?$/.test(this.lineStart)) this.flag('an unquoted \\. line (COPY would stop reading there)');
    else if (this.commas + 1 !== this.fields) this.flag(`${this.commas + 1} fields, expected ${this.fields}`);
    this.records++;
    this.commas = 0;
    this.lineStart = '';
    this.state = 0;
  }

  /**
   * CSV structure only, for bytes known to be valid UTF-8 without NUL. The common case, a quoted
   * field, runs on locals: jump to its next quote, then one byte decides what follows.
   */
  private skim(chunk: Buffer, from: number, to: number): void {
    let i = from;
    let state = this.state;
    let commas = this.commas;
    while (i < to) {
      if (state === 2) {
        const q = chunk.indexOf(QUOTE, i);
        if (q < 0 || q >= to) break;
        state = 3;
        i = q + 1;
        continue;
      }
      const b = chunk[i];
      if (state === 3 && b === QUOTE) state = 2;
      else if (state === 3 && b === COMMA) {
        commas++;
        state = 0;
      } else if (state === 0 && b === QUOTE && commas > 0) state = 2; // a quoted field, not first in its record
      else {
        // Anything else (a record's end or first field, unquoted fields, problems) the careful way.
        this.state = state;
        this.commas = commas;
        this.structure(b);
        if (this.problem) return;
        state = this.state;
        commas = this.commas;
      }
      i++;
    }
    this.state = state;
    this.commas = commas;
  }

  /** Byte by byte: UTF-8, NUL and CSV structure. */
  private walk(chunk: Buffer, from: number, to: number): void {
    for (let i = from; i < to && !this.problem; i++) {
      const b = chunk[i];
      const inSequence = this.utf8.need > 0;
      if (!utf8Byte(this.utf8, b)) this.flag('invalid UTF-8');
      else if (b === 0 && !inSequence) this.flag('a NUL byte');
      if (!this.problem) this.structure(b);
    }
  }

  private structure(b: number): void {
    if (this.state !== 2 && this.state !== 3 && this.commas === 0 && this.lineStart.length < 3 && b !== NEWLINE) this.lineStart += String.fromCharCode(b);
    switch (this.state) {
      case 0:
      case 1:
        if (b === QUOTE) {
          if (this.state === 1) this.flag('a quote inside an unquoted field');
          this.state = 2;
        } else if (b === COMMA) {
          this.commas++;
          this.state = 0;
        } else if (b === NEWLINE) this.endRecord();
        else this.state = 1;
        break;
      case 2:
        if (b === QUOTE) this.state = 3;
        break;
      default: // a quote inside a quoted field: an escaped quote, or the closing one
        if (b === QUOTE) this.state = 2;
        else if (b === COMMA) {
          this.commas++;
          this.state = 0;
        } else if (b === NEWLINE) this.endRecord();
        else this.flag('a stray quote inside a quoted field');
    }
  }
}

/** Where UTF-8 decoding stands between two bytes: the bytes its sequence still needs, the next one's range. */
interface Utf8 {
  need: number;
  min: number;
  max: number;
}

/** Reads byte `b` into `u`; false when valid UTF-8 cannot have that byte there. */
function utf8Byte(u: Utf8, b: number): boolean {
  if (u.need > 0) {
    const ok = b >= u.min && b <= u.max;
    u.need--;
    u.min = 0x80;
    u.max = 0xbf;
    return ok;
  }
  if (b < 0x80) return true;
  if (b >= 0xc2 && b <= 0xdf) u.need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    u.need = 2;
    if (b === 0xe0) u.min = 0xa0;
    if (b === 0xed) u.max = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    u.need = 3;
    if (b === 0xf0) u.min = 0x90;
    if (b === 0xf4) u.max = 0x8f;
  } else return false;
  return true;
}

/**
 * The first byte of `buf` that valid UTF-8 cannot have where it is (as FileCheck finds it), or -1;
 * a sequence cut by the end of `buf` is not one.
 */
export function firstInvalidUtf8(buf: Buffer): number {
  const u: Utf8 = { need: 0, min: 0x80, max: 0xbf };
  for (let i = 0; i < buf.length; i++) if (!utf8Byte(u, buf[i])) return i;
  return -1;
}

/** Bytes at the end of `buf` (from `from` on) that begin a UTF-8 sequence the chunk does not complete. */
export function incompleteTail(buf: Buffer, from: number): number {
  for (let k = 1; k <= 3 && buf.length - k >= from; k++) {
    const b = buf[buf.length - k];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    if (b < 0xc0) return 0;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return length > k ? k : 0;
  }
  return 0;
}

/** What sees each chunk of a file, then its end; either may throw to fail the reading (verify.ts: fileWatcher). */
export interface ChunkWatcher {
  update(chunk: Buffer): void;
  end(): void;
}

/**
 * A pass-through stream that shows what flows through it to `watch`; a throw fails the stream, so
 * a COPY fed by it is aborted.
 */
export function checkingStream(watch: ChunkWatcher): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      try {
        watch.update(chunk);
        done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        watch.end();
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
}
