import { Transform, type TransformCallback } from 'node:stream';
import { BundleError } from '../errors.js';
import { BINARY_SIGNATURE, BINARY_TRAILER, int32, shownValue, writeBytea, writeDigits, writeId } from './binary-values.js';
import { COMMA, CR, CR_OUTSIDE_QUOTES, grown, NEWLINE, QUOTE, QUOTE_IN_UNQUOTED, STRAY_QUOTE, type LineNumbers } from './csv-to-copy-text.js';

/** A keys file's fields (KEY_COLUMNS): hash, digest, vuln_at, vuln_bytes, alias_at, alias_bytes. */
const FIELDS = 6;
const HASH = 0;
const DIGEST = 1;
/** The longest record this waits for across chunks (a keys record takes about 100 bytes). */
const MAX_RECORD = 1 << 20;
/** row_key's columns in a binary tuple: updater, digest, vuln. */
const TUPLE_FIELDS = 3;
/** A tuple's bytes besides its prefix (field count, the updater) and the digest's: its length, the id. */
const TUPLE_FIXED = 4 + 12;
/** stage_row_key's (STAGE_KEY_COLUMNS, src/load/plan.ts): updater, hash, digest, the four places, the record number. */
const STAGE_FIELDS = 8;
/** Its bytes besides the prefix and the two byteas': their lengths, five bigints. */
const STAGE_FIXED = 2 * 4 + 5 * 12;
const PLACE_NAMES = ['vuln_at', 'vuln_bytes', 'alias_at', 'alias_bytes'];

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
 * that COPY), and the backend parses no hex or decimal text. The same for a keys file that is staged
 * (`target` 'stage'), each of its records whole: its places must be whole numbers as well.
 */
export class KeysToRowKeys extends Transform {
  /** Each record's fields: where they start and end in the chunk read; 1: with a doubled quote, 2: NULL. */
  private readonly from = new Int32Array(FIELDS);
  private readonly to = new Int32Array(FIELDS);
  private readonly escaped = new Uint8Array(FIELDS);
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

  /**
   * `target` 'stage': stage_row_key's rows instead (STAGE_KEY_COLUMNS: every field of the record, a
   * place as a bigint, and its number from `ids`), for a keys file that is staged (a refresh's).
   */
  constructor(private readonly file: string, updater: string, private readonly ids: LineNumbers, private readonly target: 'row_key' | 'stage' = 'row_key') {
    super();
    const name = Buffer.from(updater);
    this.prefix = Buffer.alloc(6 + name.length);
    this.prefix[1] = target === 'stage' ? STAGE_FIELDS : TUPLE_FIELDS;
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
    const stage = this.target === 'stage';
    const fromF = this.from;
    const toF = this.to;
    const esc = this.escaped;
    // (A keys record's tuple takes less than half its bytes: room for that, grown only when not.)
    let out = Buffer.allocUnsafe(buf.length);
    let o = 0;
    const end = buf.length;
    const limit = last ? end : end - 1;
    let start = 0;
    records: while (start < end) {
      // One record from `start`: its fields' bytes [fromF, toF), and in esc whether a field had a
      // doubled quote (1) or was NULL (2: unquoted and empty).
      let field = 0;
      esc.fill(0);
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
              if (field < FIELDS) esc[field] = 1;
              continue;
            }
            break;
          }
          if (field < FIELDS) {
            fromF[field] = from + 1;
            toF[field] = i;
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
          if (field < FIELDS) {
            fromF[field] = from;
            toF[field] = i;
            if (i === from) esc[field] = 2;
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
      const need = prefix.length + (stage ? STAGE_FIXED + toF[HASH] - fromF[HASH] : TUPLE_FIXED) + toF[DIGEST] - fromF[DIGEST];
      if (o + need > out.length) out = grown(out, o, need + (end - start));
      for (let k = 0; k < prefix.length; k++) out[o++] = prefix[k];
      if (stage) o = this.bytea(buf, HASH, 'hash', out, o);
      o = this.bytea(buf, DIGEST, 'digest', out, o);
      if (stage) {
        for (let f = DIGEST + 1; f < FIELDS; f++) {
          const w = esc[f] ? -1 : writeDigits(buf, fromF[f], toF[f], out, o);
          if (w < 0) {
            const shown = esc[f] === 2 ? 'NULL' : shownValue(buf, fromF[f], toF[f]);
            throw this.fail(`${PLACE_NAMES[f - DIGEST - 1]} ${shown} is not a whole number, as a bundle holds it`);
          }
          o = w;
        }
      }
      o = writeId(out, o, this.ids.ordOf());
      this.passed++;
    }
    this.next = start;
    this.out = out;
    return o;
  }

  /** Field `f` of the record, a bytea (`\x` and hex digits), at out[o]; returns the offset after it. */
  private bytea(buf: Buffer, f: number, name: string, out: Buffer, o: number): number {
    const w = this.escaped[f] ? -1 : writeBytea(buf, this.from[f], this.to[f], out, o);
    if (w < 0) {
      const shown = this.escaped[f] === 2 ? 'NULL' : shownValue(buf, this.from[f], this.to[f]);
      throw this.fail(`${name} ${shown} is not \\x and hex digits, as a bundle holds it`);
    }
    return w;
  }
}
