import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvHeader, csvLine } from '../../src/bundle/csv.js';
import { LineNumbers } from '../../src/load/csv-to-copy-text.js';
import { LeftOutRecords, lineOfKeptRecord, NotVulnerableFilter, RecordSet } from '../../src/load/not-vulnerable-filter.js';
import { chunksOf } from '../helpers/chunks.js';

const HEADER = csvHeader(['hash', 'description', 'not_vulnerable']);
const row = (hash: string, description: string, nv: boolean) => csvLine([`\\x${hash}`, description, nv ? 't' : 'f']);
// Descriptions that hold what ends a record, inside quotes (written by the bundle's one encoder).
const ROWS = [
  row('01', 'plain', false),
  row('02', 'ends like a record,"t"\nand goes on', true),
  row('03', 'two\nlines,"f"\n', false),
  row('04', '"t"', true),
  row('05', 'last', false),
];

async function run(text: string, chunk: number): Promise<{ out: string; filter: NotVulnerableFilter }> {
  const bytes = Buffer.from(text);
  const filter = new NotVulnerableFilter('vulnerabilities/x.csv');
  let out = '';
  for await (const c of Readable.from(chunksOf(bytes, chunk)).pipe(filter)) out += c.toString();
  return { out, filter };
}

describe('NotVulnerableFilter: a vulnerability CSV for a schema without not_vulnerable', () => {
  it.each([1, 3, 7, 64, 1 << 16])('lists the "t" records by hash field and number, and notes them (chunks of %i bytes)', async (chunk) => {
    const text = HEADER + ROWS.join('');
    const dropped = await run(text, chunk);
    expect(dropped.out).toBe('"\\x02",2\n"\\x04",4\n');
    expect([dropped.filter.records, dropped.filter.left.count]).toEqual([5, 2]);
    // The same notes, taken one by one, give the same digest (a second read is compared by it).
    const same = new LeftOutRecords();
    same.add(2, '\\x02');
    same.add(4, '\\x04');
    expect(dropped.filter.left.digest()).toBe(same.digest());
    const other = new LeftOutRecords();
    other.add(2, '\\x02');
    other.add(5, '\\x04');
    expect(dropped.filter.left.digest()).not.toBe(other.digest());
  });

  it('notes the records left out by number when given the count, and their ids are given to no other record', () => {
    const left = new LeftOutRecords(5);
    left.add(2, '\\x02');
    left.add(4, '\\x04');
    expect([0, 1, 2, 3, 4, 5, 6].filter((n) => left.set!.has(n))).toEqual([2, 4]);
    const ids = new LineNumbers(1000, left.set);
    expect(ROWS.map(() => ids.ordOf())).toEqual([1001, 0, 1003, 0, 1005]);
    // Hex digits in either case are one hash.
    const upper = new LeftOutRecords();
    upper.add(2, '\\x0A');
    const lower = new LeftOutRecords();
    lower.add(2, '\\x0a');
    expect(upper.digest()).toBe(lower.digest());
  });

  it('keeps the records\' lines (hash, number) for stage_left_out while they fit in its budget, none once they do not', () => {
    const lines = (left: LeftOutRecords) => left.lines()?.map((b) => b.toString('latin1')).join('');
    const kept = new LeftOutRecords(10_000, 64 * 1024);
    for (let n = 1; n <= 5000; n++) kept.add(n, `\\x${n.toString(16).padStart(4, '0').toUpperCase()}`);
    const all = Array.from({ length: 5000 }, (_, i) => `\\x${(i + 1).toString(16).padStart(4, '0')},${i + 1}\n`).join('');
    expect(lines(kept)).toBe(all);
    // One byte short of them all: none (a second read finds them); the digest is the same.
    const over = new LeftOutRecords(10_000, all.length - 1);
    for (let n = 1; n <= 5000; n++) over.add(n, `\\x${n.toString(16).padStart(4, '0')}`);
    expect(over.lines()).toBeUndefined();
    expect(over.digest()).toBe(kept.digest());
    expect(new LeftOutRecords(10).lines()).toBeUndefined();
  });

  it('refuses a file whose last record does not end with the column, naming the record', async () => {
    await expect(run(HEADER + ROWS[0] + '"\\x09","cut', 8)).rejects.toThrow(/vulnerabilities\/x\.csv record 2: does not end with a not_vulnerable field/);
    await expect(run('"hash","description"\n', 8)).rejects.toThrow(/line 1: the header does not end with the not_vulnerable column/);
  });

  it('finds the file line of a kept record (COPY numbers the header 1)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nv-filter-'));
    const file = path.join(dir, 'x.csv');
    await writeFile(file, HEADER + ROWS.join(''));
    // Kept records 1, 2, 3 are the file's records 1, 3, 5: lines 2, 4, 6.
    expect(await Promise.all([1, 2, 3].map((k) => lineOfKeptRecord(file, 'x.csv', k)))).toEqual([2, 4, 6]);
  });

  it('notes record numbers from 1 to its size, one bit each, and ignores any other', () => {
    const set = new RecordSet(20);
    for (const n of [1, 7, 8, 9, 16, 20, 0, 21, -3]) set.add(n);
    expect(Array.from({ length: 25 }, (_, n) => n - 2).filter((n) => set.has(n))).toEqual([1, 7, 8, 9, 16, 20]);
  });
});
