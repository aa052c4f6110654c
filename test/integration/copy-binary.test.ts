import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvHeader, csvLine } from '../../src/bundle/csv.js';
import { CsvToCopyBinary } from '../../src/load/csv-to-copy-binary.js';
import { LineNumbers } from '../../src/load/csv-to-copy-text.js';
import { LeftOutRecords, NotVulnerableFilter } from '../../src/load/not-vulnerable-filter.js';
import { issuedColumn } from '../../src/model/go-time.js';
import { rangeLiteral } from '../../src/model/version.js';
import { chunksOf } from '../helpers/chunks.js';
import { createClairDb } from '../helpers/db.js';

// What PostgreSQL's own CSV parser and input functions make of a file is the truth; the same file in
// COPY's binary format, written by node, must give the same values (id appended, as the loader
// numbers a file straight into vuln), however it is cut into chunks.
const COLUMNS = ['hash', 'description', 'issued', 'vulnerable_range', 'not_vulnerable'] as const;
const v = (...parts: number[]) => ({ kind: 'rpm', v: parts });
const TEXTS = ['', 'plain', 'a "quoted" word', 'back\\slash', '\\N', '\\.', 'tab\there', 'new\nline', 'cr\rin', 'ünïcødé ✓ 𝄞', 'x'.repeat(3000)];
const ISSUED = ['', '2023-04-07T05:13:00Z', '2024-02-29T23:59:59.123456Z', '1999-12-31T23:59:59.5Z', '0001-01-01T00:00:00Z', '2000-01-01T00:00:00Z', '1970-01-01T00:00:00.000001Z'];
const RANGES = [null,
  { lower: v(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), upper: v(2147483647, 0, 0, 0, 0, 0, 0, 0, 0, 0) },
  { lower: v(1, 2, 3, 0, 0, 0, 0, 0, 0, 0), upper: v(6, 16, 2147483647, 0, 0, 0, 0, 0, 0, 0) },
  { lower: v(-5, 0, 0, 0, 0, 0, 0, 0, 0, 0), upper: v(-5, 0, 0, 0, 0, 0, 0, 0, 0, 0) }];
const records = Array.from({ length: 40 }, (_, i) => csvLine([
  `\\x${(i * 7919).toString(16).padStart(32, '0')}`,
  i % 13 === 12 ? null : TEXTS[i % TEXTS.length],
  issuedColumn(ISSUED[i % ISSUED.length]),
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  rangeLiteral(RANGES[i % RANGES.length] as any),
  i % 3 === 0 ? 't' : 'f',
]));
const CSV = Buffer.from(csvHeader([...COLUMNS]) + records.join(''));

let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client(await createClairDb(20));
  await client.connect();
});

afterAll(async () => {
  await client?.end();
});

async function copyCsv(table: string): Promise<void> {
  const sink = client.query(copyFrom(`COPY ${table} (${COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`));
  await pipeline(Readable.from([CSV]), sink);
  await client.query(`UPDATE ${table} SET id = id - (SELECT min(id) FROM ${table}) + 1001`);
}

async function copyBinary(table: string, chunk: number, csv = CSV): Promise<number> {
  const sink = client.query(copyFrom(`COPY ${table} (${COLUMNS.join(', ')}, id) FROM STDIN WITH (FORMAT binary)`));
  await pipeline(Readable.from(chunksOf(csv, chunk)), new CsvToCopyBinary('vulnerabilities/x.csv', COLUMNS, new LineNumbers(1000)), sink);
  return sink.rowCount ?? 0;
}

const TABLE = (name: string) => `DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name} (id bigserial, hash bytea, description text, issued timestamptz,
  vulnerable_range versionrange, not_vulnerable boolean)`;
const rows = async (table: string) => (await client.query(`SELECT id, hash, description, issued::text, vulnerable_range::text, not_vulnerable,
  vulnerable_range @> '{1,2,3,0,0,0,0,0,0,0}'::int[] AS has FROM ${table} ORDER BY id`)).rows;

describe('CsvToCopyBinary: a vulnerability CSV in COPY binary format', () => {
  it.each([1, 2, 7, 61, 1 << 16])('gives the values PostgreSQL reads from the CSV itself (chunks of %i bytes)', async (chunk) => {
    await client.query(`${TABLE('by_csv')}; ${TABLE('by_binary')}`);
    await copyCsv('by_csv');
    expect(await copyBinary('by_binary', chunk)).toBe(records.length);
    const expected = await rows('by_csv');
    expect(expected.filter((r) => r.description === null)).toHaveLength(3);
    expect(await rows('by_binary')).toEqual(expected);
  });

  it.each([
    ['a hash not in hex', (l: string) => l.replace(/"\\x0+"/, '"abc"'), /vulnerabilities\/x\.csv record 1: hash "abc" is not a bytea in hex \(\\x…\), as a bundle holds it$/],
    ['a time with another zone', (l: string) => l.replace('"0001-01-01T00:00:00Z"', '"2020-01-01T00:00:00+02:00"'), /record 1: issued "2020-01-01T00:00:00\+02:00" is not an RFC 3339 UTC time/],
    ['a day the month has not', (l: string) => l.replace('"0001-01-01T00:00:00Z"', '"2023-02-29T00:00:00Z"'), /record 1: issued "2023-02-29T00:00:00Z" is not an RFC 3339 UTC time/],
    ['a range of other bounds', (l: string) => l.replace('"empty"', '"[1,2)"'), /record 1: vulnerable_range "\[1,2\)" is not a versionrange/],
    ['a boolean of another spelling', (l: string) => l.replace(/"t"\n$/, '"maybe"\n'), /record 1: not_vulnerable "maybe" is not t or f/],
    ['a record short of a field', (l: string) => l.replace(/,"t"\n$/, '\n'), /record 1: 4 fields, expected 5/],
  ])('refuses %s, naming file and record (exit 3)', async (_what, edit, message) => {
    await client.query(TABLE('by_binary'));
    const csv = Buffer.from(csvHeader([...COLUMNS]) + edit(records[0]) + records.slice(1).join(''));
    await expect(copyBinary('by_binary', 5, csv)).rejects.toThrow(message);
  });

  // A schema without vuln.not_vulnerable (< 18): that column is not copied, nor the records whose value is "t".
  const KEPT = COLUMNS.filter((c) => c !== 'not_vulnerable');
  // Descriptions holding what ends a record, inside quotes (the listing of the left-out records reads by that).
  const TRICKY = Buffer.from(csvHeader([...COLUMNS]) + [...records.slice(0, 20),
    csvLine(['\\x' + 'aa'.repeat(16), 'ends like a record,"t"\nand goes on', issuedColumn(''), rangeLiteral(null), 't']),
    csvLine(['\\x' + 'bb'.repeat(16), 'two\nlines,"f"\n', issuedColumn(''), rangeLiteral(null), 'f']), ...records.slice(20)].join(''));

  async function copyLeavingOut(chunk: number, csv: Buffer, left: LeftOutRecords): Promise<number> {
    const sink = client.query(copyFrom(`COPY by_binary (${KEPT.join(', ')}, id) FROM STDIN WITH (FORMAT binary)`));
    await pipeline(Readable.from(chunksOf(csv, chunk)), new CsvToCopyBinary('vulnerabilities/x.csv', COLUMNS, new LineNumbers(1000), undefined, left), sink);
    return sink.rowCount ?? 0;
  }

  it.each([1, 7, 61, 1 << 16])('leaves out not_vulnerable and the "t" records, as the listing of them does; the others keep their ids (chunks of %i bytes)', async (chunk) => {
    await client.query(`${TABLE('by_csv')}; DROP TABLE IF EXISTS by_binary; CREATE TABLE by_binary (id bigint, hash bytea, description text,
      issued timestamptz, vulnerable_range versionrange)`);
    const sink = client.query(copyFrom(`COPY by_csv (${COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`));
    await pipeline(Readable.from([TRICKY]), sink);
    await client.query('UPDATE by_csv SET id = id - (SELECT min(id) FROM by_csv) + 1001');
    const total = Number(sink.rowCount);
    const left = new LeftOutRecords(total);
    const copied = await copyLeavingOut(chunk, TRICKY, left);
    const kept = (await client.query('SELECT id, hash, description, issued::text, vulnerable_range::text FROM by_csv WHERE NOT not_vulnerable ORDER BY id')).rows;
    expect(kept.length).toBeGreaterThan(20);
    expect(copied).toBe(kept.length);
    expect(left.count).toBe(total - kept.length);
    expect((await client.query('SELECT id, hash, description, issued::text, vulnerable_range::text FROM by_binary ORDER BY id')).rows).toEqual(kept);
    // The records left out, by number (their ids are nobody's), and the same as NotVulnerableFilter lists.
    const leftIds = (await client.query<{ n: number }>('SELECT (id - 1000)::int AS n FROM by_csv WHERE not_vulnerable ORDER BY id')).rows.map((r) => r.n);
    expect(Array.from({ length: total + 2 }, (_, n) => n).filter((n) => left.set!.has(n))).toEqual(leftIds);
    const listing = new NotVulnerableFilter('vulnerabilities/x.csv');
    let listed = '';
    for await (const c of Readable.from(chunksOf(TRICKY, 1000)).pipe(listing)) listed += c.toString();
    expect(listed.split('\n').filter(Boolean).map((l) => Number(l.split(',')[1]))).toEqual(leftIds);
    expect(left.digest()).toBe(listing.left.digest());
  });

  it.each([
    ['a value of another spelling', (l: string) => l.replace(/"t"\n$/, '"maybe"\n'), /record 1: not_vulnerable "maybe" is not t or f, as a bundle holds it$/],
    ['no value (NULL)', (l: string) => l.replace(/"t"\n$/, '\n'), /record 1: not_vulnerable NULL is not t or f, as a bundle holds it$/],
    ['a record short of a field', (l: string) => l.replace(/,"t"\n$/, '\n'), /record 1: 4 fields, expected 5/],
  ])('leaving out "not vulnerable" records, refuses %s, naming file and record (exit 3)', async (_what, edit, message) => {
    await client.query('DROP TABLE IF EXISTS by_binary; CREATE TABLE by_binary (id bigint, hash bytea, description text, issued timestamptz, vulnerable_range versionrange)');
    const csv = Buffer.from(csvHeader([...COLUMNS]) + edit(records[0]) + records.slice(1).join(''));
    await expect(copyLeavingOut(5, csv, new LeftOutRecords())).rejects.toThrow(message);
  });
});
