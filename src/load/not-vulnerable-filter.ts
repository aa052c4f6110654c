import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { BundleError } from '../errors.js';

/**
 * Read size of the files the loader copies, instead of node's 64 KB: fewer reads, COPY messages and
 * socket writes (a 9 M-row initial load: node's system CPU 11-12 s against 22-26 s, the biggest
 * file's COPY 41-43 s against 48-49 s), and for the filtered file fewer copies of a record cut at a
 * chunk's end.
 */
export const READ_CHUNK = 1 << 20;

/**
 * A bundle vulnerability CSV for a Clair schema without vuln.not_vulnerable (< 18), as a stream:
 * `kept` gives the file without its last column, and without the "not vulnerable" records (which
 * such a Clair would read as vulnerabilities; sql/load/drop-not-vulnerable.sql leaves them out of
 * staged files the same way), each record with its id (`shift` + its record number) in a first
 * column, for a COPY straight into vuln; `dropped` gives one CSV line per record left out: its
 * hash field and its record number (from 1), for stage_left_out.
 *
 * The bundle writer (src/bundle/csv.ts) quotes every string and ends records with '\n', and
 * not_vulnerable, the last column, is never NULL: every record ends with `,"t"\n` or `,"f"\n`.
 * Inside a quoted field a quote is doubled, so those five bytes can only end a record; any
 * other '\n' belongs to a field.
 */
export class NotVulnerableFilter extends Transform {
  /** Records read; records left out. */
  records = 0;
  dropped = 0;
  /** sha256 of the `dropped` output, computed in both modes: two reads of one file must agree. */
  private readonly droppedHash = createHash('sha256');
  /** The records left out (by record number), when asked for: one bit per record of the file. */
  readonly leftOut: RecordSet | undefined;
  private carry: Buffer | null = null;
  private header = true;

  /** `records`: the file's record count, to note which records are left out (`leftOut`). */
  constructor(private readonly file: string, private readonly output: 'kept' | 'dropped', private readonly shift = 0, records?: number) {
    super();
    if (records !== undefined) this.leftOut = new RecordSet(records);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const kept = this.output === 'kept';
    let head = '';
    /** Kept records: their ids, and where each starts and ends (before its `,"f"`). */
    const ids: string[] = [];
    const spans: number[] = [];
    const lines: string[] = [];
    let start = 0;
    let pos = 0;
    if (this.header) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        this.carry = buf;
        done();
        return;
      }
      const header = buf.toString('utf8', 0, nl);
      if (!header.endsWith(',"not_vulnerable"')) {
        done(new BundleError(`${this.file} line 1: the header does not end with the not_vulnerable column`, { place: { file: this.file, record: 'line 1' } }));
        return;
      }
      head = `"id",${header.slice(0, -',"not_vulnerable"'.length)}\n`;
      this.header = false;
      start = pos = nl + 1;
    }
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      pos = nl + 1;
      // ,"t" or ,"f" before the newline: the end of a record.
      if (nl - start < 4 || buf[nl - 4] !== 0x2c || buf[nl - 3] !== 0x22 || buf[nl - 1] !== 0x22) continue;
      const flag = buf[nl - 2];
      if (flag !== 0x74 && flag !== 0x66) continue;
      this.records++;
      if (flag === 0x74) {
        this.dropped++;
        this.leftOut?.add(this.records);
        lines.push(`${buf.toString('latin1', start, buf.indexOf(0x2c, start))},${this.records}\n`);
      } else if (kept) {
        ids.push(`${this.shift + this.records},`);
        spans.push(start, nl - 4);
      }
      start = pos;
    }
    this.carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
    if (kept && (head || ids.length)) {
      let size = head.length;
      for (let i = 0; i < ids.length; i++) size += ids[i].length + spans[2 * i + 1] - spans[2 * i] + 1;
      const out = Buffer.allocUnsafe(size);
      let at = out.write(head, 0, 'latin1');
      for (let i = 0; i < ids.length; i++) {
        at += out.write(ids[i], at, 'latin1');
        at += buf.copy(out, at, spans[2 * i], spans[2 * i + 1]);
        out[at++] = 10;
      }
      this.push(out);
    }
    if (lines.length) {
      const text = lines.join('');
      this.droppedHash.update(text);
      if (!kept) this.push(text);
    }
    done();
  }

  /** The sha256 of the dropped records' lines (after the end of the stream). */
  droppedDigest(): string {
    return this.droppedHash.copy().digest('hex');
  }

  override _flush(done: TransformCallback): void {
    if (this.carry?.length || this.header) {
      const record = this.header ? 'line 1' : `record ${this.records + 1}`;
      done(new BundleError(`${this.file} ${record}: does not end with a not_vulnerable field ("t" or "f") and a newline`, { place: { file: this.file, record } }));
      return;
    }
    done();
  }
}

/**
 * A set of record numbers from 1 to `size`, one bit each (a 9 M-row file: 1.1 MB). A number past
 * `size` (a file longer than its manifest says, which the COPY's row count then refuses) is ignored.
 */
export class RecordSet {
  private readonly bits: Uint8Array;
  constructor(private readonly size: number) {
    this.bits = new Uint8Array((size >> 3) + 1);
  }
  add(n: number): void {
    if (n >= 1 && n <= this.size) this.bits[n >> 3] |= 1 << (n & 7);
  }
  has(n: number): boolean {
    return n >= 1 && n <= this.size && (this.bits[n >> 3] & (1 << (n & 7))) !== 0;
  }
}

/**
 * The file line (COPY's numbering: the header is line 1, each record one line) of the `kept`-th
 * record a `kept` filter passed on, for a COPY error in the filtered stream: the kept-th record
 * whose number is not among the dropped ones.
 */
export async function lineOfKeptRecord(abs: string, file: string, kept: number): Promise<number> {
  let record = kept;
  let rest = '';
  const filter = new NotVulnerableFilter(file, 'dropped');
  const source = createReadStream(abs, { highWaterMark: READ_CHUNK });
  source.on('error', (err) => filter.destroy(err));
  for await (const chunk of source.pipe(filter) as AsyncIterable<Buffer>) {
    const lines = (rest + chunk.toString('latin1')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      // Dropped records come in file order: each one at or before the answer pushes it one further.
      if (Number(line.slice(line.lastIndexOf(',') + 1)) > record) {
        source.destroy();
        return record + 1;
      }
      record++;
    }
  }
  return record + 1;
}
