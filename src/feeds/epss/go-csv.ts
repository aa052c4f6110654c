/**
 * Go's encoding/csv Reader over bytes (Comma ',', LazyQuotes and TrimLeadingSpace off), as
 * claircore's EPSS enricher uses it: `\r\n` read as `\n` (and a `\r` before EOF dropped),
 * empty lines skipped, lines starting with `comment` skipped once a comment rune is set,
 * quoted fields with `""` and embedded newlines, a bare `"` in an unquoted field or a stray `"`
 * after a quoted one is an error (ErrBareQuote / ErrQuote), a record whose field count is not
 * `fieldsPerRecord` (when > 0) is an error (ErrFieldCount). Fields stay bytes: Go keeps invalid
 * UTF-8 as is.
 */
export class CsvParseError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(`record on line ${line}, column ${column}: ${message}`);
  }
}

export class GoCsvReader {
  private pos = 0;
  /** Lines read so far (Go's numLine). */
  line = 0;
  comment = 0;
  fieldsPerRecord = 0;

  constructor(private readonly data: Buffer) {}

  /** The next line, `\r\n` normalised to `\n`; null at EOF. */
  private readLine(): Buffer | null {
    if (this.pos >= this.data.length) return null;
    let end = this.data.indexOf(0x0a, this.pos);
    let line: Buffer;
    if (end === -1) {
      line = this.data.subarray(this.pos);
      this.pos = this.data.length;
      // For backwards compatibility, Go drops a trailing \r before EOF.
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    } else {
      end++;
      line = this.data.subarray(this.pos, end);
      this.pos = end;
    }
    this.line++;
    const n = line.length;
    if (n >= 2 && line[n - 2] === 0x0d && line[n - 1] === 0x0a) line = Buffer.concat([line.subarray(0, n - 2), Buffer.of(0x0a)]);
    return line;
  }

  /** The next record's fields, or null at EOF. */
  read(): Buffer[] | null {
    let line: Buffer | null;
    for (;;) {
      line = this.readLine();
      if (line === null) return null;
      if (this.comment !== 0 && line.length > 0 && line[0] === this.comment) continue;
      if (line.length === lengthNL(line)) continue;
      break;
    }
    const recLine = this.line;
    const fields: Buffer[] = [];
    let col = 1;
    let rest: Buffer = line;
    for (;;) {
      if (rest.length === 0 || rest[0] !== 0x22) {
        const i = rest.indexOf(0x2c);
        const field = i >= 0 ? rest.subarray(0, i) : rest.subarray(0, rest.length - lengthNL(rest));
        const q = field.indexOf(0x22);
        if (q >= 0) throw new CsvParseError('bare " in non-quoted-field', this.line, col + q);
        fields.push(Buffer.from(field));
        if (i >= 0) {
          rest = rest.subarray(i + 1);
          col += i + 1;
          continue;
        }
        break;
      }
      // Quoted field.
      const parts: Buffer[] = [];
      rest = rest.subarray(1);
      col += 1;
      for (;;) {
        const i = rest.indexOf(0x22);
        if (i >= 0) {
          parts.push(rest.subarray(0, i));
          rest = rest.subarray(i + 1);
          col += i + 1;
          const next = rest.length > 0 ? rest[0] : -1;
          if (next === 0x22) {
            parts.push(Buffer.of(0x22));
            rest = rest.subarray(1);
            col += 1;
          } else if (next === 0x2c) {
            rest = rest.subarray(1);
            col += 1;
            fields.push(Buffer.concat(parts));
            break;
          } else if (lengthNL(rest) === rest.length) {
            fields.push(Buffer.concat(parts));
            rest = Buffer.alloc(0);
            break;
          } else {
            throw new CsvParseError('extraneous or missing " in quoted-field', this.line, col - 1);
          }
        } else if (rest.length > 0) {
          parts.push(rest);
          col += rest.length;
          const nl = this.readLine();
          if (nl === null) {
            // Abrupt end of file inside quotes.
            throw new CsvParseError('extraneous or missing " in quoted-field', this.line, col);
          }
          rest = nl;
          col = 1;
        } else {
          throw new CsvParseError('extraneous or missing " in quoted-field', this.line, col);
        }
      }
      if (rest.length === 0) break;
    }
    if (this.fieldsPerRecord > 0 && fields.length !== this.fieldsPerRecord) {
      throw new CsvParseError('wrong number of fields', recLine, 1);
    }
    return fields;
  }
}

function lengthNL(b: Buffer): number {
  return b.length > 0 && b[b.length - 1] === 0x0a ? 1 : 0;
}
