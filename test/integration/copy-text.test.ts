import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvHeader, csvLine } from '../../src/bundle/csv.js';
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
    await expect(convert('"h"\n"ok"\n"cut', 3)).rejects.toThrow(/^vulnerabilities\/x\.csv record 3: an unterminated quoted field$/);
    await expect(convert('"h"\n"ok"\r"next"\n', 4)).rejects.toThrow(/^vulnerabilities\/x\.csv record 2: a carriage return outside a quoted field$/);
  });
});
