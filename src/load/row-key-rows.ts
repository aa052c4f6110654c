import { BundleError } from '../errors.js';
import { copyTextField, CopyTextRecords } from './csv-to-copy-text.js';

const TAB = 0x09;
const NEWLINE = 0x0a;
/** A keys file's fields (KEY_COLUMNS) and the number LineNumbers appends. */
const FIELDS = 7;

/**
 * The keys file of the updater copied straight into vuln, in COPY's text format (CsvToCopyText,
 * each record with its vuln id appended by LineNumbers from the shift), turned into
 * clair_bundle.row_key's rows: the updater, the record's digest (its second field) and that id (its
 * last). Its other fields are not stored (an initial load looks no key up by its hash:
 * sql/load/direct-keys-begin.sql). COPY's text format escapes every tab and newline inside a
 * field, so records are split on the raw ones. A record without the keys file's six fields fails
 * the stream with the file and record (BundleError, exit 3), as COPY would refuse it.
 */
export class RowKeyRows extends CopyTextRecords {
  private readonly prefix: Buffer;
  /** Records passed on (for the record an error names: the header is record 1). */
  private passed = 0;

  constructor(private readonly file: string, updater: string) {
    super();
    this.prefix = Buffer.concat([copyTextField(updater), Buffer.from([TAB])]);
  }

  protected override unfinished(): Error {
    return this.fail('a record without its end');
  }

  private fail(what: string): BundleError {
    const record = `record ${this.passed + 2}`;
    return new BundleError(`${this.file} ${record}: ${what}`, { place: { file: this.file, record } });
  }

  protected override records(buf: Buffer, end: number): Buffer {
    const prefix = this.prefix;
    // Each record gives at most its own bytes and the prefix, and has at least a byte per field.
    let out = Buffer.allocUnsafe(end + Math.ceil(end / FIELDS) * prefix.length);
    let o = 0;
    let field = 0;
    let digestAt = 0;
    let digestEnd = 0;
    let lastAt = 0;
    for (let i = 0; i < end; i++) {
      const b = buf[i];
      if (b === TAB) {
        field++;
        if (field === 1) digestAt = i + 1;
        else if (field === 2) digestEnd = i;
        lastAt = i + 1;
      } else if (b === NEWLINE) {
        if (field !== FIELDS - 1) throw this.fail(`${field} fields, a keys file has ${FIELDS - 1}`);
        const need = o + prefix.length + (digestEnd - digestAt) + (i - lastAt) + 2;
        if (need > out.length) {
          const bigger = Buffer.allocUnsafe(Math.max(2 * out.length, need));
          out.copy(bigger, 0, 0, o);
          out = bigger;
        }
        o += prefix.copy(out, o);
        o += buf.copy(out, o, digestAt, digestEnd);
        out[o++] = TAB;
        o += buf.copy(out, o, lastAt, i);
        out[o++] = NEWLINE;
        this.passed++;
        field = 0;
      }
    }
    return out.subarray(0, o);
  }
}
