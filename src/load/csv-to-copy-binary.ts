import type { LeftOutRecords } from './not-vulnerable-filter.js';
import type { CopiedRowChecks } from './copied-row-checks.js';
import { BINARY_SIGNATURE, BINARY_TRAILER, binaryColumns, int32, MAX_VALUE_BYTES, shownValue, VALUE_FORMS, VALUE_WRITERS, writeId, type BinaryColumn } from './binary-values.js';
import {
  AFTER_QUOTE, COMMA, CR, CR_OUTSIDE_QUOTES, CsvToCopyText, grown, NEWLINE, QUOTE, QUOTE_IN_UNQUOTED, QUOTED, SHORT_FIELD, START, STRAY_QUOTE,
  UNQUOTED, type CsvCheck, type LineNumbers,
} from './csv-to-copy-text.js';

/** What a record, a field or a value may add to the output beyond the bytes read. */
const SLACK = 16 + MAX_VALUE_BYTES;

/**
 * A bundle vulnerability CSV (RFC 4180, as COPY … (FORMAT csv, HEADER true) reads it) in COPY's
 * binary format, for its columns in order (and, with `ids`, each record's id last): a field's bytes
 * as they are, its length before them, the typed columns in the form their receive functions read
 * (src/load/binary-values.ts). PostgreSQL then parses no text: the backend, which bounds the COPY
 * of a file straight into vuln, does less (8.9 M rows: 36.8 s against 42.3-43.9 s in text format).
 *
 * The CSV is read as CsvToCopyText reads it, with its checks when `check` is given (field count,
 * quotes, `\.` lines, NUL, UTF-8, header, rows) and the same errors; the field count, stray quotes
 * and quotes in unquoted fields are always checked (a binary record must have its fields). A value
 * that is not as the bundle writer writes it fails the stream with file and record (exit 3). Only
 * complete records go out: the open one waits for the next chunk. For a schema without
 * vuln.not_vulnerable, the "not vulnerable" records can be left out as the file is converted
 * (`leaveOut`; 686 k of 989 k records kept: 2.7-3.0 s against 3.1-3.5 s in CSV through a filter).
 */
export class CsvToCopyBinary extends CsvToCopyText {
  /** The open record's output so far, and the offset of its current field's length in it. */
  private part: Buffer | undefined;
  private partLenAt = 0;
  private signed = false;
  private readonly fields: number;
  private readonly types: readonly BinaryColumn[];

  /**
   * `columns`: the file's, in order (their types: binaryColumns). `leaveOut`, for a Clair schema
   * without vuln.not_vulnerable (< 18): the file's last column, not_vulnerable, is not copied, and
   * a record whose value is "t" is not copied at all but noted there (its id, when numbered, is
   * not given to another record). `rowChecks`: each copied record is held to what vuln's rows must
   * be (src/load/copied-row-checks.ts); its problem fails the stream with file and record (exit 3).
   */
  constructor(file: string, private readonly columns: readonly string[], private readonly ids?: LineNumbers, check?: CsvCheck,
    private readonly leaveOut?: LeftOutRecords, private readonly rowChecks?: CopiedRowChecks) {
    super(file, undefined, check);
    this.types = binaryColumns(columns);
    this.fields = columns.length;
    if (leaveOut && columns[columns.length - 1] !== 'not_vulnerable') throw new Error(`${file}: the last column is not not_vulnerable`);
  }

  override _flush(done: (err?: Error | null) => void): void {
    super._flush((err?: Error | null) => {
      if (!err) this.push(this.signed ? BINARY_TRAILER : Buffer.concat([BINARY_SIGNATURE, BINARY_TRAILER]));
      done(err);
    });
  }

  /** The error for column `column`'s value (its first 80 bytes shown; none: NULL) that is not a `type` as the bundle writer writes it. */
  private notAsHeld(column: number, type: Exclude<BinaryColumn, 'text'>, value: Buffer | undefined): Error {
    const shown = value ? shownValue(value, 0, value.length) : 'NULL';
    return this.fail(`${this.columns[column]} ${shown} is not ${VALUE_FORMS[type]}, as a bundle holds it`);
  }

  protected override convert(buf: Buffer): Buffer {
    const n = buf.length;
    const types = this.types;
    const fields = this.fields;
    const leaveOut = this.leaveOut;
    const rowChecks = this.rowChecks;
    const count = fields - (leaveOut ? 1 : 0) + (this.ids ? 1 : 0);
    /** With `leaveOut`: the record ending is "not vulnerable" (its value "t"). */
    let left = false;
    let out: Buffer<ArrayBuffer> = Buffer.allocUnsafe((this.part?.length ?? 0) + n + (n >> 3) + 4 * SLACK);
    let o = 0;
    // Where the open record's output starts, and its current field's length (-1: no record open).
    let recordAt = 0;
    let lenAt = -1;
    if (this.part) {
      o = this.part.copy(out, 0);
      lenAt = this.partLenAt;
      this.part = undefined;
    }
    let state = this.state;
    let commas = this.commas;
    let lead = this.lead;
    let leadBytes = this.leadBytes;
    let i = 0;
    while (i < n) {
      if (lenAt < 0) {
        // A record begins: its field count and its first field's length.
        if (o + SLACK + n - i > out.length) out = grown(out, o, SLACK + n - i);
        recordAt = o;
        out[o] = count >>> 8;
        out[o + 1] = count;
        lenAt = o + 2;
        o += 6;
      }
      if (state === QUOTED) {
        // A quoted field's bytes up to its next quote, as they are: short ones (most of a record)
        // byte by byte, a long one from there in one piece.
        const limit = Math.min(n, i + SHORT_FIELD);
        let k = i;
        while (k < limit && buf[k] !== QUOTE) out[o++] = buf[k++];
        if (k === limit && k < n) {
          const q = buf.indexOf(QUOTE, k);
          const end = q < 0 ? n : q;
          o += buf.copy(out, o, k, end);
          k = end;
        }
        if (k >= n) {
          i = n;
          break;
        }
        i = k + 1;
        state = AFTER_QUOTE;
        continue;
      }
      const b = buf[i++];
      if (state === AFTER_QUOTE) {
        if (b === QUOTE) {
          out[o++] = QUOTE; // a doubled quote
          state = QUOTED;
          continue;
        }
        if (b !== COMMA && b !== NEWLINE) {
          this.state = state;
          throw this.fail(STRAY_QUOTE);
        }
        state = UNQUOTED;
      }
      if (b === COMMA || b === NEWLINE) {
        // The field ends: NULL (empty and unquoted), its bytes, or its typed value.
        if (o + SLACK + n - i > out.length) out = grown(out, o, SLACK + n - i);
        const type = commas < fields ? types[commas] : 'text';
        // The copied row's checks see the field's bytes as copied (a typed one's before conversion).
        if (rowChecks && this.records > 0 && commas < fields) rowChecks.field(commas, out, lenAt + 4, o, state === START);
        if (leaveOut && b === NEWLINE && commas === fields - 1 && this.records > 0) {
          // not_vulnerable, which is not copied: "f", or "t" to leave the record out.
          const value = state !== START && o - lenAt === 5 ? out[lenAt + 4] : -1;
          if (value !== 0x74 && value !== 0x66) {
            this.state = state;
            throw this.notAsHeld(commas, 'bool', state === START ? undefined : out.subarray(lenAt + 4, o));
          }
          left = value === 0x74;
          o = lenAt;
        } else if (state === START) {
          int32(out, lenAt, -1);
          o = lenAt + 4;
        } else if (type === 'text' || this.records === 0) int32(out, lenAt, o - lenAt - 4);
        else {
          // The value's bytes, just written after its length, in place (the writer reads them first).
          const end = VALUE_WRITERS[type](out, lenAt + 4, o, out, lenAt);
          if (end < 0) {
            this.state = state;
            throw this.notAsHeld(commas, type, out.subarray(lenAt + 4, o));
          }
          o = end;
        }
        state = START;
        if (b === COMMA) {
          commas++;
          lenAt = o;
          o += 4;
          continue;
        }
        if (this.records > 0) {
          this.checkRecord(fields, commas, lead, leadBytes);
          // (Every record takes its number, a record left out too.)
          const id = this.ids ? this.ids.ordOf() : 0;
          const problem = rowChecks?.end(!left, id);
          if (problem) {
            this.state = state;
            throw this.fail(problem);
          }
          if (left) {
            // Noted by its hash, the record's first field (in binary by now), and dropped.
            const len = out.readInt32BE(recordAt + 2);
            leaveOut!.add(this.records, len < 0 ? '' : `\\x${out.toString('hex', recordAt + 6, recordAt + 6 + len)}`);
            o = recordAt;
            left = false;
          } else if (this.ids) o = writeId(out, o, id);
        }
        commas = 0;
        lead = 0;
        leadBytes = 0;
        this.records++;
        lenAt = -1;
        if (this.records === 1) {
          // The header's bytes are not passed on; the format's signature is.
          o = BINARY_SIGNATURE.copy(out, 0);
          this.signed = true;
        }
        recordAt = o;
        continue;
      }
      if (b === CR) {
        this.state = state;
        throw this.fail(CR_OUTSIDE_QUOTES);
      }
      if (state === START && b === QUOTE) {
        state = QUOTED;
        continue;
      }
      if (b === QUOTE) {
        this.state = state;
        throw this.fail(QUOTE_IN_UNQUOTED);
      }
      if (commas === 0 && leadBytes < 3) {
        lead = (lead << 8) | b;
        leadBytes++;
      }
      state = UNQUOTED;
      out[o++] = b;
    }
    this.state = state;
    this.commas = commas;
    this.lead = lead;
    this.leadBytes = leadBytes;
    this.open = lenAt >= 0;
    if (lenAt >= 0) {
      this.part = Buffer.from(out.subarray(recordAt, o));
      this.partLenAt = lenAt - recordAt;
      o = recordAt;
    }
    return out.subarray(0, this.records === 0 ? 0 : o);
  }
}
