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
 * The records of a vulnerability file that a schema without vuln.not_vulnerable (< 18) leaves out,
 * as one read of the file found them: how many, which (by record number, when given the file's
 * record count), and a digest of their hashes and numbers, on which two reads of one file must
 * agree (NotVulnerableFilter, CsvToCopyBinary).
 */
export class LeftOutRecords {
  count = 0;
  readonly set: RecordSet | undefined;
  private readonly hash = createHash('sha256');
  private pending: string[] = [];
  /** The lines digested so far, while they take at most `keepBytes` (then none). */
  private kept: Buffer[] | undefined;
  private keptBytes = 0;

  /**
   * `records`: the file's record count (for the set). `keepBytes`: the records' lines (hash and
   * number, as NotVulnerableFilter writes them for stage_left_out) are kept up to that many bytes,
   * for lines(), so a load copies them without reading the file again.
   */
  constructor(records?: number, private readonly keepBytes = 0) {
    if (records !== undefined) this.set = new RecordSet(records);
    if (keepBytes > 0) this.kept = [];
  }

  /** Record `n` (from 1), whose hash field holds `hash` (`\x…`), is left out. */
  add(n: number, hash: string): void {
    this.count++;
    this.set?.add(n);
    this.pending.push(`${hash.toLowerCase()},${n}\n`);
    if (this.pending.length >= 4096) this.flush();
  }

  digest(): string {
    this.flush();
    return this.hash.copy().digest('hex');
  }

  /** The lines of every record left out (CSV: hash, number), when they fit in `keepBytes`. */
  lines(): Buffer[] | undefined {
    this.flush();
    return this.kept;
  }

  private flush(): void {
    if (!this.pending.length) return;
    const text = this.pending.join('');
    this.hash.update(text);
    this.pending = [];
    if (!this.kept) return;
    const bytes = Buffer.from(text, 'latin1');
    this.keptBytes += bytes.length;
    if (this.keptBytes > this.keepBytes) this.kept = undefined;
    else this.kept.push(bytes);
  }
}

/**
 * The records of a bundle vulnerability CSV that a Clair schema without vuln.not_vulnerable (< 18)
 * leaves out (its "not vulnerable" records, which such a Clair would read as vulnerabilities;
 * sql/load/drop-not-vulnerable.sql leaves them out of staged files the same way), as a stream: one
 * CSV line per record left out, its hash field and its record number (from 1), for stage_left_out.
 * The COPY straight into vuln leaves them out as it converts the file (CsvToCopyBinary: leaveOut);
 * `left` notes them as that does, for the two reads to be compared.
 *
 * The bundle writer (src/bundle/csv.ts) quotes every string and ends records with '\n', and
 * not_vulnerable, the last column, is never NULL: every record ends with `,"t"\n` or `,"f"\n`.
 * Inside a quoted field a quote is doubled, so those five bytes can only end a record; any
 * other '\n' belongs to a field.
 */
export class NotVulnerableFilter extends Transform {
  /** Records read. */
  records = 0;
  /** The records left out. */
  readonly left = new LeftOutRecords();
  private carry: Buffer | null = null;
  private header = true;

  constructor(private readonly file: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
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
      if (!buf.toString('utf8', 0, nl).endsWith(',"not_vulnerable"')) {
        done(new BundleError(`${this.file} line 1: the header does not end with the not_vulnerable column`, { place: { file: this.file, record: 'line 1' } }));
        return;
      }
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
        const hash = buf.toString('latin1', start, buf.indexOf(0x2c, start));
        this.left.add(this.records, hash.length >= 2 && hash.startsWith('"') && hash.endsWith('"') ? hash.slice(1, -1) : hash);
        lines.push(`${hash},${this.records}\n`);
      }
      start = pos;
    }
    this.carry = start < buf.length ? Buffer.from(buf.subarray(start)) : null;
    if (lines.length) this.push(lines.join(''));
    done();
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
 * record the COPY straight into vuln took (CsvToCopyBinary: leaveOut), for a COPY error there: the
 * kept-th record whose number is not among the ones left out.
 */
export async function lineOfKeptRecord(abs: string, file: string, kept: number): Promise<number> {
  let record = kept;
  let rest = '';
  const filter = new NotVulnerableFilter(file);
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
