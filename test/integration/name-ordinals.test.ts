import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvToCopyText, LineNumbers } from '../../src/load/csv-to-copy-text.js';
import { NameOrdinals } from '../../src/load/name-ordinals.js';
import { ALIAS_COLUMNS } from '../../src/model/row.js';
import type { Vulnerability } from '../../src/model/vulnerability.js';
import { chunksOf } from '../helpers/chunks.js';
import { createEmptyDb } from '../helpers/db.js';
import { EXAMPLE_A, makeBundle, variations } from '../helpers/records.js';

// The alias file of a bundle the build wrote, converted for COPY with a number per record (the
// vulnerability record's, here its line), then its names numbered by NameOrdinals: every record's
// number must name its own (namespace, name) in the list NameOrdinals gives, as PostgreSQL reads
// both (the truth here: the file read by COPY's CSV mode), however the file is cut into chunks.
const ALIASES = 'aliases/debian%2Fupdater.csv';
const RECORDS: Vulnerability[] = variations(EXAMPLE_A, 40).map((r, i) => (i % 2 === 0
  ? { ...r, self: { space: 'DEBIAN', name: `DSA-${i}` }, aliases: [{ space: 'CVE', name: `2024-${1000 + i}` }, { space: 'CVE', name: '2024-0001' }] } : r));

let client: pg.Client;
let csv: Buffer;

beforeAll(async () => {
  client = new pg.Client(await createEmptyDb());
  await client.connect();
  const { dir } = await makeBundle([{ name: 'debian/updater', records: RECORDS }], '2026-01-01T00:00:00Z');
  // And names COPY's text format escapes (a tab, a backslash, a newline), one of them twice.
  const odd = ['a\tb', 'back\\slash', 'two\nlines', 'a\tb'].map((name, i) => `"\\x${String(i).repeat(32)}","alias","CVE","${name}"`);
  csv = Buffer.from((await readFile(path.join(dir, ALIASES), 'utf8')) + odd.join('\n') + '\n');
  await client.query(`CREATE TABLE file_rows (line bigint GENERATED ALWAYS AS IDENTITY, ${ALIAS_COLUMNS.map((c) => `${c} text`).join(', ')})`);
  await pipeline(Readable.from([csv]), client.query(copyFrom(`COPY file_rows (${ALIAS_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`)));
});

afterAll(async () => {
  await client?.end();
});

/** The file through CsvToCopyText and NameOrdinals in `chunk`-byte pieces, into `numbered`, and the names it lists into `names`. */
async function numbered(chunk: number, limit?: number): Promise<NameOrdinals> {
  await client.query(`DROP TABLE IF EXISTS numbered, names;
    CREATE TABLE numbered (${ALIAS_COLUMNS.map((c) => `${c} text`).join(', ')}, line bigint, name_ord integer);
    CREATE TABLE names (namespace text, name text, name_ord integer)`);
  const names = new NameOrdinals(ALIASES, limit);
  await pipeline(Readable.from(chunksOf(csv, chunk)), new CsvToCopyText(ALIASES, new LineNumbers()), names,
    client.query(copyFrom(`COPY numbered (${ALIAS_COLUMNS.join(', ')}, line, name_ord) FROM STDIN WITH (FORMAT text)`)));
  const listed = names.names();
  if (listed) await pipeline(listed, client.query(copyFrom('COPY names (namespace, name, name_ord) FROM STDIN WITH (FORMAT text)')));
  return names;
}

describe('NameOrdinals: the alias names of the file copied by the second session, numbered while it is copied', () => {
  it.each([1, 7, 64, 1 << 16])('numbers each (namespace, name) by its first record and lists it once with that number (chunks of %i bytes)', async (chunk) => {
    const names = await numbered(chunk);
    // The records as PostgreSQL reads the CSV, each with its name's number.
    const rows = await client.query(`SELECT f.line, f.namespace, f.name, n.name_ord, l.namespace AS listed_namespace, l.name AS listed_name
      FROM file_rows f JOIN numbered n ON n.line = f.line LEFT JOIN names l ON l.name_ord = n.name_ord ORDER BY f.line`);
    expect(rows.rows.length).toBe(40 / 2 * 3 + 4);
    expect(rows.rows.filter((r) => r.listed_namespace !== r.namespace || r.listed_name !== r.name)).toEqual([]);
    const distinct = await client.query('SELECT count(DISTINCT (namespace, name))::int AS n FROM file_rows');
    expect(names.count).toBe(distinct.rows[0].n);
    // Listed once each, numbered 1, 2, … in the order of their first records.
    const listed = await client.query(`SELECT l.name_ord, (SELECT min(f.line) FROM file_rows f WHERE f.namespace = l.namespace AND f.name = l.name)::int AS first
      FROM names l ORDER BY l.name_ord`);
    expect(listed.rows.map((r) => r.name_ord)).toEqual(Array.from({ length: names.count }, (_, i) => i + 1));
    const firsts = listed.rows.map((r) => r.first);
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    expect(await client.query("SELECT name_ord FROM numbered WHERE name IN ('a\tb', 'back\\slash', E'two\\nlines') ORDER BY line")).toMatchObject({
      rows: [{ name_ord: names.count - 2 }, { name_ord: names.count - 1 }, { name_ord: names.count }, { name_ord: names.count - 2 }],
    });
  });

  it('gives up past its limit of names: the records from then on get NULL and it lists none (the load then looks every name up)', async () => {
    const names = await numbered(1 << 16, 3);
    expect(names.names()).toBeUndefined();
    const rows = (await client.query('SELECT line, name_ord FROM numbered ORDER BY line')).rows;
    const firstNull = rows.findIndex((r) => r.name_ord === null);
    expect(firstNull).toBeGreaterThan(0);
    expect(rows.slice(0, firstNull).every((r) => r.name_ord >= 1 && r.name_ord <= 3)).toBe(true);
    expect(rows.slice(firstNull).every((r) => r.name_ord === null)).toBe(true);
  });

  it('fails the stream on a converted row without five fields', async () => {
    const err = await pipeline(Readable.from([Buffer.from('\\x00\talias\tCVE\n')]), new NameOrdinals(ALIASES), async function* (source) {
      for await (const _ of source) yield _;
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${ALIASES}: a converted alias row without its five fields`);
  });
});

describe('NameOrdinals keep: the records split by whether their links can stand for them (the second session copies the others)', () => {
  // Records COPY's checks on stage_alias refuse: a kind neither self nor alias, a NULL namespace,
  // an empty name, a NULL name.
  const refused = [`"\\x${'a'.repeat(32)}","bogus","CVE","X-1"`, `"\\x${'b'.repeat(32)}","alias",,"X-2"`,
    `"\\x${'c'.repeat(32)}","self","CVE",""`, `"\\x${'d'.repeat(32)}","alias","CVE",`];
  /** Every fifth record without a vulnerability record's number. */
  const none = { has: (record: number) => record % 5 === 0 };

  /** The file with those records, through CsvToCopyText and a NameOrdinals keeping `keep`, into `table` in the order passed on. */
  async function split(table: string, chunk: number, keep?: 'unlinked' | 'linked', findRow?: number): Promise<NameOrdinals> {
    await client.query(`DROP TABLE IF EXISTS ${table};
      CREATE TABLE ${table} (seq bigint GENERATED ALWAYS AS IDENTITY, ${ALIAS_COLUMNS.map((c) => `${c} text`).join(', ')}, line bigint, name_ord integer)`);
    const file = Buffer.concat([csv, Buffer.from(`${refused.join('\n')}\n`)]);
    const names = new NameOrdinals(ALIASES, undefined, undefined, keep, findRow);
    await pipeline(Readable.from(chunksOf(file, chunk)), new CsvToCopyText(ALIASES, new LineNumbers(0, none)), names,
      client.query(copyFrom(`COPY ${table} (${ALIAS_COLUMNS.join(', ')}, line, name_ord) FROM STDIN WITH (FORMAT text)`)));
    return names;
  }

  it.each([1, 7, 1 << 16])('"linked" passes on exactly the records with both numbers that the checks accept, "unlinked" the others, each in the file\'s order; a passed record\'s place in the file is found (chunks of %i bytes)', async (chunk) => {
    await split('split_all', chunk);
    const unlinked = await split('split_unlinked', chunk, 'unlinked', 3);
    const linked = await split('split_linked', chunk, 'linked', 2);
    // PostgreSQL's reading of every record, and whether it has both numbers and passes stage_alias's checks.
    const all = (await client.query(`SELECT seq, ${ALIAS_COLUMNS.join(', ')}, line, name_ord,
      line IS NOT NULL AND name_ord IS NOT NULL AND kind IN ('self', 'alias') AND coalesce(namespace, '') <> '' AND coalesce(name, '') <> '' AS linkable
      FROM split_all ORDER BY seq`)).rows;
    const rows = async (table: string) => (await client.query(`SELECT ${ALIAS_COLUMNS.join(', ')}, line, name_ord FROM ${table} ORDER BY seq`)).rows;
    const strip = ({ seq: _seq, linkable: _linkable, ...r }: Record<string, unknown>) => r;
    const linkable = all.filter((r) => r.linkable);
    const others = all.filter((r) => !r.linkable);
    expect(linkable.length).toBeGreaterThan(20);
    expect(others.length).toBeGreaterThan(refused.length);
    expect(await rows('split_linked')).toEqual(linkable.map(strip));
    expect(await rows('split_unlinked')).toEqual(others.map(strip));
    expect(unlinked.linked).toBe(linkable.length);
    expect(unlinked.foundAt).toBe(Number(others[2].seq));
    expect(linked.foundAt).toBe(Number(linkable[1].seq));
  });
});
