import { Transform, type TransformCallback } from 'node:stream';
import { BundleError } from '../errors.js';
import { BINARY_SIGNATURE, BINARY_TRAILER, int32, shownValue, writeBytea, writeId } from './binary-values.js';
import { COMMA, CR, CR_OUTSIDE_QUOTES, grown, NEWLINE, QUOTE, QUOTE_IN_UNQUOTED, STRAY_QUOTE, type LineNumbers } from './csv-to-copy-text.js';

/** A keys file's fields (KEY_COLUMNS); the digest is the second. */
const FIELDS = 6;
const DIGEST = 1;
/** The longest record this waits for across chunks (a keys record takes about 100 bytes). */
const MAX_RECORD = 1 << 20;
/** row_key's columns in a binary tuple: updater, digest, vuln. */
const TUPLE_FIELDS = 3;
/** A tuple's bytes besides its prefix (field count, the updater) and the digest's: its length, the id. */
const TUPLE_FIXED = 4 + 12;

/**
 * The keys file of the updater copied straight into vuln, read once, as clair_bundle.row_key's
 * rows in COPY's binary format: the updater, the record's digest (its second field, `\x` and hex
 * digits, as the bundle writer writes it) and its id from `ids` (the shift + its record number;
 * NULL for a record a schema < 18 left out). Its other fields are not stored (an initial load
 * looks no key up by its hash: sql/load/direct-keys-begin.sql). The CSV is read as COPY's CSV mode
 * reads it (RFC 4180; the header, the first record, is dropped); a record without the keys file's
 * six fields, a digest that is not one, or CSV that COPY would refuse fails the stream with the
 * file and record (BundleError, exit 3). One pass in node, where the keys file went through
 * CsvToCopyText and a second pass over its output before (8.9 M keys: 4.4 s of node, which bounded
 * that COPY), and the backend parses no hex or decimal text.
 */
export class KeysToRowKeys extends Transform {
  /** Each tuple's start: its field count, the updater's length and bytes. */
  private readonly prefix: Buffer;
  /** An unfinished record's bytes from an earlier chunk. */
  private carry: Buffer | undefined;
  private headerDone = false;
  /** The format's signature went out (before the first chunk's tuples). */
  private signed = false;
  /** Records passed on (for the record an error names: the header is record 1). */
  private passed = 0;
  /** What records() wrote (its bytes up to the offset it returns), and where it stopped reading. */
  private out = Buffer.alloc(0);
  private next = 0;

  constructor(private readonly file: string, updater: string, private readonly ids: LineNumbers) {
    super();
    const name = Buffer.from(updater);
    this.prefix = Buffer.alloc(6 + name.length);
    this.prefix[1] = TUPLE_FIELDS;
    int32(this.prefix, 2, name.length);
    name.copy(this.prefix, 6);
  }

  private fail(what: string): BundleError {
    const record = this.headerDone ? this.passed + 2 : 1;
    return new BundleError(`${this.file} record ${record}: ${what}`, { place: { file: this.file, record: `record ${record}` } });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (!this.signed) {
        this.push(BINARY_SIGNATURE);
        this.signed = true;
      }
      const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
      const written = this.records(buf, false);
      this.carry = this.next < buf.length ? Buffer.from(buf.subarray(this.next)) : undefined;
      if (this.carry && this.carry.length > MAX_RECORD) throw this.fail(`a record longer than ${MAX_RECORD} bytes`);
      if (written) this.push(this.out.subarray(0, written));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      // A last record without its newline ends with the file (as COPY reads it).
      if (this.carry) {
        const written = this.records(this.carry, true);
        if (written) this.push(this.out.subarray(0, written));
      }
      this.push(this.signed ? BINARY_TRAILER : Buffer.concat([BINARY_SIGNATURE, BINARY_TRAILER]));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  /**
   * The tuples of `buf`'s complete records (at the end of the file, `last`: its final one too),
   * written into this.out up to the offset returned; this.next: where the first unfinished one
   * starts. (Returning them in an array deoptimized this at every chunk.)
   */
  private records(buf: Buffer, last: boolean): number {
    const prefix = this.prefix;
    const tuple = TUPLE_FIXED + prefix.length;
    // (A keys record's tuple takes less than half its bytes: room for that, grown only when not.)
    let out = Buffer.allocUnsafe(buf.length);
    let o = 0;
    const end = buf.length;
    const limit = last ? end : end - 1;
    let start = 0;
    records: while (start < end) {
      // One record from `start`: its fields, and the digest's bytes [digestFrom, digestTo).
      let field = 0;
      let digestFrom = 0;
      let digestTo = 0;
      let digestNull = false;
      let escaped = false;
      let i = start;
      for (;;) {
        const from = i;
        let b = i < end ? buf[i] : NEWLINE;
        if (i === end && !last) break records;
        if (b === QUOTE) {
          // Up to the closing quote (a doubled quote stands for one; newlines are the field's). Not
          // a quote at the chunk's end, which the next chunk may double.
          i++;
          for (;;) {
            while (i < limit && buf[i] !== QUOTE) i++;
            if (i >= limit) {
              if (!last) break records;
              throw this.fail('an unterminated quoted field');
            }
            if (i + 1 < end && buf[i + 1] === QUOTE) {
              i += 2;
              escaped ||= field === DIGEST;
              continue;
            }
            break;
          }
          if (field === DIGEST) {
            digestFrom = from + 1;
            digestTo = i;
          }
          i++;
          b = i < end ? buf[i] : NEWLINE;
          if (b !== COMMA && b !== NEWLINE) throw this.fail(b === CR ? CR_OUTSIDE_QUOTES : STRAY_QUOTE);
        } else {
          while (i < end && (b = buf[i]) !== COMMA && b !== NEWLINE) {
            if (b === QUOTE) throw this.fail(QUOTE_IN_UNQUOTED);
            if (b === CR) throw this.fail(CR_OUTSIDE_QUOTES);
            i++;
          }
          if (i === end) {
            if (!last) break records;
            b = NEWLINE; // the file's last record, without its newline
          }
          if (field === DIGEST) {
            digestFrom = from;
            digestTo = i;
            digestNull = i === from;
          }
        }
        i++;
        if (b === NEWLINE) break;
        field++;
      }
      start = Math.min(i, end);
      if (!this.headerDone) {
        this.headerDone = true;
        continue;
      }
      if (field !== FIELDS - 1) throw this.fail(`${field + 1} fields, a keys file has ${FIELDS}`);
      const digestBytes = digestTo - digestFrom;
      if (o + tuple + digestBytes > out.length) out = grown(out, o, tuple + digestBytes + (end - start));
      for (let k = 0; k < prefix.length; k++) out[o++] = prefix[k];
      const w = escaped || digestNull ? -1 : writeBytea(buf, digestFrom, digestTo, out, o);
      if (w < 0) {
        const shown = digestNull ? 'NULL' : shownValue(buf, digestFrom, digestTo);
        throw this.fail(`digest ${shown} is not \\x and hex digits, as a bundle holds it`);
      }
      o = w;
      o = writeId(out, o, this.ids.ordOf());
      this.passed++;
    }
    this.next = start;
    this.out = out;
    return o;
  }
}
