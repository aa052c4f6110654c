import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvHeader, csvLine } from '../../src/bundle/csv.js';
import { FileCheck } from '../../src/bundle/file-check.js';
import { judgeScan } from '../../src/bundle/verify.js';
import { CsvToCopyBinary } from '../../src/load/csv-to-copy-binary.js';
import { CsvToCopyText, LineNumbers } from '../../src/load/csv-to-copy-text.js';
import { chunksOf } from '../helpers/chunks.js';
import { createEmptyDb } from '../helpers/db.js';

// What PostgreSQL's own CSV parser makes of a file is the truth; the converted stream, read in
// COPY's text format, must give the same values (NULL and '' apart) however it is cut into chunks.
const COLUMNS = ['n', 'a', 'b', 'c'];
const TRICKY = [
  '', 'plain', 'a "quoted" word', '""', 'back\\slash', '\\N', '\\.', '\\x0001ff', 'tab\there', 'new\nline',
  'cr\rin', 'crlf\r\nin', ',"t"\n', 'ends with a quote"', '"', 'ünïcødé ✓ 𝄞', ' spaced ', 'x'.repeat(200) + '\\' + 'y'.repeat(90),
];
// Records from the bundle's encoder (every string quoted, null unquoted-empty)…
const encoded = TRICKY.map((t, i) => csvLine([String(i + 1), t, i % 3 === 0 ? null : TRICKY[(i * 7) % TRICKY.length], `${t}|${t}`])).join('');
// …and RFC 4180 written by others: unquoted fields, a last record without a newline.
// (ending with a NULL field, as a bare delimiter).
const handWritten = '101,unquoted,"",\n102,,"x""y",z\n103,"a\nb",back\\slash,\\N\n105,,,\n104,"last","no newline",';
const CSV = csvHeader(COLUMNS) + encoded + handWritten;
const RECORDS = TRICKY.length + 5;

let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client(await createEmptyDb());
  await client.connect();
});

afterAll(async () => {
  await client?.end();
});

async function copy(table: string, format: string, bytes: Buffer, chunk: number, convert: boolean): Promise<number> {
  const sink = client.query(copyFrom(`COPY ${table} (${COLUMNS.join(', ')}) FROM STDIN WITH ${format}`));
  await (convert ? pipeline(Readable.from(chunksOf(bytes, chunk)), new CsvToCopyText('x.csv'), sink) : pipeline(Readable.from(chunksOf(bytes, chunk)), sink));
  return sink.rowCount ?? 0;
}

async function rows(table: string): Promise<unknown> {
  return (await client.query(`SELECT json_agg(t ORDER BY n) AS j FROM ${table} t`)).rows[0].j;
}

async function convert(text: string, chunk: number, numbering?: LineNumbers): Promise<string> {
  const bytes = Buffer.from(text);
  let out = '';
  for await (const c of Readable.from(chunksOf(bytes, chunk)).pipe(new CsvToCopyText('vulnerabilities/x.csv', numbering))) out += c.toString();
  return out;
}

describe('CsvToCopyText: a bundle CSV in COPY text format', () => {
  it.each([1, 2, 3, 7, 61, 1 << 16])('gives the values PostgreSQL reads from the CSV itself (chunks of %i bytes)', async (chunk) => {
    await client.query('DROP TABLE IF EXISTS by_csv, by_text; CREATE TABLE by_csv (n int PRIMARY KEY, a text, b text, c text); CREATE TABLE by_text (LIKE by_csv)');
    const bytes = Buffer.from(CSV);
    expect(await copy('by_csv', '(FORMAT csv, HEADER true)', bytes, 1 << 16, false)).toBe(RECORDS);
    expect(await copy('by_text', '(FORMAT text)', bytes, chunk, true)).toBe(RECORDS);
    const expected = await rows('by_csv');
    expect(await rows('by_text')).toEqual(expected);
    // The CSV's empty strings and NULLs both arrived, and stayed apart.
    const nulls = await client.query("SELECT count(*) FILTER (WHERE a IS NULL) AS nulls, count(*) FILTER (WHERE a = '') AS empties FROM by_text");
    expect(nulls.rows[0]).toEqual({ nulls: '2', empties: '1' });
  });

  it('drops the header and escapes what text format reads specially', async () => {
    expect(await convert('"h1","h2"\n"a\\b","t\tn\nr\r"\n,""\n', 5)).toBe('a\\\\b\tt\\tn\\nr\\r\n\\N\t\n');
  });

  it.each([1, 3, 64, 1 << 16])('writes all of a chunk that grows: NULLs (one byte, three out) and escapes (chunks of %i bytes)', async (chunk) => {
    const nulls = ','.repeat(999);
    const slashes = `"${'\\'.repeat(1000)}"`;
    expect(await convert(`"h"\n${nulls}\n${slashes}\n${nulls}`, chunk)).toBe(`${'\\N\t'.repeat(999)}\\N\n${'\\\\'.repeat(1000)}\n${'\\N\t'.repeat(999)}\\N\n`);
  });

  it.each([1, 5, 1 << 16])('LineNumbers: appends each record\'s line, from 1, however the chunks cut it, a first field longer than any hash included (chunks of %i bytes)', async (chunk) => {
    const long = 'h'.repeat(1500);
    const csv = `"hash","n"\n"\\x00ff","1"\n"${long}","2"\n"\\x01","3"\n,"4"\n"last","5"`;
    expect(await convert(csv, chunk, new LineNumbers())).toBe(`\\\\x00ff\t1\t1\n${long}\t2\t2\n\\\\x01\t3\t3\n\\N\t4\t4\nlast\t5\t5\n`);
  });

  it('refuses an unterminated quoted field and a lone carriage return, naming file and record', async () => {
    await expect(convert('"h"\n"ok"\n"cut', 3)).rejects.toThrow(/^vulnerabilities\/x\.csv record 2: an unterminated quoted field$/);
    await expect(convert('"h"\n"ok"\r"next"\n', 4)).rejects.toThrow(/^vulnerabilities\/x\.csv record 1: a carriage return outside a quoted field$/);
  });

  /** What FileCheck and judgeScan say of a file (the loader's check before the conversion took it over). */
  function judged(bytes: Buffer, columns: string[], rows?: number): string {
    const check = new FileCheck(columns.length);
    check.update(bytes);
    const scan = check.finish();
    // (rows: by default as many as it holds.)
    const f = { path: 'aliases/x.csv', sha256: scan.sha256, size: bytes.length, columns, rows: rows ?? scan.records - 1 };
    try {
      judgeScan(f, scan, true);
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** What the conversion with a check says of it (to COPY's binary format: CsvToCopyBinary, all text). */
  async function checked(bytes: Buffer, columns: string[], chunk: number, rows?: number, binary = false): Promise<string> {
    const check = { fields: columns.length, header: csvHeader(columns), rows };
    const converter = binary ? new CsvToCopyBinary('aliases/x.csv', columns, undefined, check) : new CsvToCopyText('aliases/x.csv', undefined, check);
    try {
      for await (const _ of Readable.from(chunksOf(bytes, chunk)).pipe(converter)) void _;
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  }

  const COLS = ['a', 'b'];
  const damaged: [string, Buffer][] = [
    ['NUL', Buffer.from('"a","b"\n"ok",""\n"x\0","y"\n')],
    ['lone continuation byte', Buffer.concat([Buffer.from('"a","b"\n"x'), Buffer.from([0x80]), Buffer.from('","y"\n')])],
    ['overlong', Buffer.concat([Buffer.from('"a","b"\n"ok",""\n"x'), Buffer.from([0xc0, 0xaf]), Buffer.from('","y"\n')])],
    ['surrogate', Buffer.concat([Buffer.from('"a","b"\n"x'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","y"\n')])],
    ['a sequence cut by a newline', Buffer.concat([Buffer.from('"a","b"\n"x","'), Buffer.from([0xe2, 0x0a]), Buffer.from('y"\n')])],
    ['truncated sequence at the end', Buffer.concat([Buffer.from('"a","b"\n"x","y'), Buffer.from([0xe2, 0x9c])])],
    ['stray quote', Buffer.from('"a","b"\n"ok",""\n"x"y,"z"\n')],
    ['quote in an unquoted field', Buffer.from('"a","b"\nx"y,"z"\n')],
    ['field count', Buffer.from('"a","b"\n"ok",""\n"ok",""\n"x"\n')],
    ['field count of a last record without its newline', Buffer.from('"a","b"\n"ok",""\n"x",,')],
    ['end-of-data marker', Buffer.from('"a","b"\n\\.\n"x","y"\n')],
    ['unterminated quote', Buffer.from('"a","b"\n"x,y\n')],
    ['header', Buffer.from('"a","c"\n"x","y"\n')],
    ['header without its newline', Buffer.from('"a","b"')],
    ['no header', Buffer.from('')],
  ];

  it.each(damaged)('with a check, refuses %s at the record FileCheck names, with its error, whatever the chunking (text and binary)', async (_name, bytes) => {
    const expected = judged(bytes, COLS);
    expect(expected).not.toBe('ok');
    for (const chunk of [1, 2, 3, 4, 7, 1 << 16]) {
      expect(await checked(bytes, COLS, chunk), `chunk ${chunk}`).toBe(expected);
      expect(await checked(bytes, COLS, chunk, undefined, true), `chunk ${chunk} binary`).toBe(expected);
    }
  });

  it('with a check, counts the rows as the manifest does', async () => {
    const bytes = Buffer.from('"a","b"\n"x","y"\n"z",\n');
    expect(await checked(bytes, COLS, 5, 2)).toBe('ok');
    expect(await checked(bytes, COLS, 5, 3)).toBe(judged(bytes, COLS, 3));
    expect(judged(bytes, COLS, 3)).toMatch(/^aliases\/x\.csv holds 2 rows, the manifest says 3$/);
  });

  it('with a check, random byte soup: the same verdict as FileCheck and judgeScan (text and binary)', async () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    // (No carriage return: the conversion refuses one outside quotes, which COPY's CSV mode reads.)
    const alphabet = [0x22, 0x2c, 0x0a, 0x61, 0x5c, 0x2e, 0x00, 0xc3, 0xa9, 0xe2, 0x9c, 0x93, 0xf0, 0x9d, 0x84, 0x9e, 0x80, 0xff];
    let refused = 0;
    for (let n = 0; n < 400; n++) {
      const len = Math.floor(rnd() * 60);
      const body = Buffer.from(Array.from({ length: len }, () => (rnd() < 0.6 ? 0x61 : alphabet[Math.floor(rnd() * alphabet.length)])));
      const columns = ['a', 'b', 'c'].slice(0, 1 + Math.floor(rnd() * 3));
      const bytes = Buffer.concat([Buffer.from(csvHeader(columns)), body]);
      const expected = judged(bytes, columns);
      if (expected !== 'ok') refused++;
      const rows = Number(judged(bytes, columns, -1).match(/holds (-?\d+) rows/)?.[1]);
      for (const chunk of [1, 3, 5, bytes.length || 1]) {
        for (const binary of [false, true]) {
          expect(await checked(bytes, columns, chunk, expected === 'ok' ? rows : undefined, binary), `${body.toString('hex')} fields ${columns.length} chunk ${chunk}${binary ? ' binary' : ''}`).toBe(expected);
        }
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});
