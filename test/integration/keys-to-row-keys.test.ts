import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineNumbers } from '../../src/load/csv-to-copy-text.js';
import { KeysToRowKeys } from '../../src/load/keys-to-row-keys.js';
import { STAGE_KEY_COLUMNS } from '../../src/load/plan.js';
import { KEY_COLUMNS } from '../../src/model/row.js';
import { chunksOf } from '../helpers/chunks.js';
import { createEmptyDb } from '../helpers/db.js';
import { EXAMPLE_A, makeBundle, variations } from '../helpers/records.js';

// The keys file of a bundle the build wrote, as the load COPYs the keys of the updater copied
// straight into vuln into clair_bundle.row_key (src/load/keys-to-row-keys.ts): each record's
// updater, digest and id (the shift + its record number, NULL for a record left out). The truth
// here: the same file read by COPY's CSV mode, each record numbered, however the file is cut
// into chunks.
const KEYS = 'keys/debian%2Fupdater.csv';
// An updater name COPY's text format would escape (a tab, a backslash): binary takes it as it is.
const UPDATER = 'deb\tian\\updater';
const SHIFT = 1_000_000_007;
const CHUNKS = [1, 2, 7, 64, 1 << 16];

let client: pg.Client;
let csv: Buffer;

beforeAll(async () => {
  client = new pg.Client(await createEmptyDb());
  await client.connect();
  const { dir } = await makeBundle([{ name: 'debian/updater', records: variations(EXAMPLE_A, 50) }], '2026-01-01T00:00:00Z');
  csv = await readFile(path.join(dir, KEYS));
});

afterAll(async () => {
  await client?.end();
});

/** `file` as COPY's CSV mode reads it: each record's fields (the digest as bytea) and number. */
async function fileRows(file: Buffer): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS file_rows; CREATE TABLE file_rows (record bigint GENERATED ALWAYS AS IDENTITY, ${KEY_COLUMNS.map((c) => `${c} ${c === 'digest' ? 'bytea' : 'text'}`).join(', ')})`);
  await pipeline(Readable.from([file]), client.query(copyFrom(`COPY file_rows (${KEY_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`)));
}

/** The file through KeysToRowKeys (numbered from the shift, none for `leftOut`) in `chunk`-byte pieces, into `row_key`. */
async function copied(file: Buffer, chunk: number, leftOut = new Set<number>()): Promise<void> {
  await client.query('DROP TABLE IF EXISTS row_key; CREATE TABLE row_key (updater text NOT NULL, digest bytea NOT NULL, vuln bigint)');
  await pipeline(Readable.from(chunksOf(file, chunk)), new KeysToRowKeys(KEYS, UPDATER, new LineNumbers(SHIFT, leftOut)),
    client.query(copyFrom('COPY row_key (updater, digest, vuln) FROM STDIN WITH (FORMAT binary)')));
}

async function expectRows(leftOut: readonly number[] = []): Promise<void> {
  const expected = await client.query(
    `SELECT $1::text AS updater, digest, CASE WHEN record = ANY ($3::bigint[]) THEN NULL ELSE $2::bigint + record END AS vuln
     FROM file_rows ORDER BY record`, [UPDATER, SHIFT, leftOut]);
  const got = await client.query('SELECT updater, digest, vuln FROM row_key ORDER BY ctid');
  expect(got.rows).toEqual(expected.rows);
}

/** The error copied() fails with. */
async function refusal(file: Buffer, chunk: number): Promise<{ exitCode?: number; message: string }> {
  return copied(file, chunk).then(() => { throw new Error('not refused'); }, (e: { exitCode?: number; message: string }) => e);
}

const lines = () => csv.toString().split('\n');

describe('KeysToRowKeys: the keys of the file copied straight into vuln, as row_key rows in one pass', () => {
  it.each(CHUNKS)('gives each record its updater, its digest and the shift + its number (chunks of %i bytes)', async (chunk) => {
    await fileRows(csv);
    await copied(csv, chunk);
    expect((await client.query('SELECT count(*)::int AS n FROM row_key')).rows[0].n).toBe(50);
    await expectRows();
  });

  it.each(CHUNKS)('gives a record left out no id (chunks of %i bytes)', async (chunk) => {
    await fileRows(csv);
    await copied(csv, chunk, new Set([1, 7, 50]));
    await expectRows([1, 7, 50]);
  });

  it.each(CHUNKS)('reads the CSV as COPY does: doubled quotes and newlines inside quotes, unquoted fields, no newline at the end (chunks of %i bytes)', async (chunk) => {
    const l = lines();
    l[2] = l[2].replace(/"([0-9]+)"$/, '"1""\n2"'); // its last field: 1"<newline>2
    l[4] = l[4].replace(/,"([0-9]+)","([0-9]+)"$/, ',$1,$2'); // its last two fields unquoted
    l[6] = l[6].replace(/^"[^"]*"/, '"\\x00"",""00"'); // its hash: \x00","00
    const file = Buffer.from(l.join('\n').replace(/\n$/, ''));
    await fileRows(file);
    expect((await client.query('SELECT count(*)::int AS n FROM file_rows')).rows[0].n).toBe(50);
    await copied(file, chunk);
    await expectRows();
  });

  it.each([7, 1 << 16])('refuses a record without the six fields, naming the file and record, exit 3 (chunks of %i bytes)', async (chunk) => {
    const l = lines();
    l[3] = l[3].replace(/,"[0-9]+"$/, '');
    const err = await refusal(Buffer.from(l.join('\n')), chunk);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(`${KEYS} record 4: 5 fields, a keys file has 6`);
  });

  it.each([
    ['not hex', (l: string) => l.replace(/^("[^"]*",)"\\x[0-9a-f]{2}/, '$1"\\xzz'), 'digest "\\\\xzz'],
    ['without \\x', (l: string) => l.replace(/^("[^"]*",)"\\x/, '$1"'), 'digest "'],
    ['empty and unquoted (NULL)', (l: string) => l.replace(/^("[^"]*",)"[^"]*"/, '$1'), 'digest NULL'],
    ['with a doubled quote', (l: string) => l.replace(/^("[^"]*",)"\\x/, '$1"\\x""'), 'digest "\\\\x'],
  ])('refuses a digest %s, naming the file and record, exit 3', async (_what, change, shown) => {
    const l = lines();
    l[5] = change(l[5]);
    const err = await refusal(Buffer.from(l.join('\n')), 64);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`${KEYS} record 6: ${shown}`);
    expect(err.message).toContain('is not \\x and hex digits, as a bundle holds it');
  });

  it.each([
    ['a stray quote inside a quoted field', (l: string) => l.replace(/"$/, '"x')],
    ['a quote inside an unquoted field', (l: string) => l.replace(/"([0-9]+)"$/, '1"2')],
    ['a carriage return outside a quoted field', (l: string) => `${l}\r`],
  ])('refuses %s, naming the file and record, exit 3', async (what, change) => {
    const l = lines();
    l[8] = change(l[8]);
    const err = await refusal(Buffer.from(l.join('\n')), 7);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(`${KEYS} record 9: ${what}`);
  });

  it('refuses a quoted field the file ends in, exit 3', async () => {
    const err = await refusal(Buffer.concat([csv, Buffer.from('"\\x00","\\x01","1","2","3","4\n')]), 64);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(`${KEYS} record 52: an unterminated quoted field`);
  });

  it('refuses a record longer than it waits for, exit 3', async () => {
    const err = await refusal(Buffer.concat([csv, Buffer.from('"'), Buffer.alloc(2 << 20, 0x61)]), 1 << 16);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(new RegExp(`^${KEYS} record 52: a record longer than`));
  });
});

/** `file` as COPY's CSV mode reads it into stage_row_key's types: each record's fields and number. */
async function typedFileRows(file: Buffer): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS typed_rows; CREATE TABLE typed_rows (record bigint GENERATED ALWAYS AS IDENTITY, hash bytea, digest bytea,
    vuln_at bigint, vuln_bytes bigint, alias_at bigint, alias_bytes bigint)`);
  await pipeline(Readable.from([file]), client.query(copyFrom(`COPY typed_rows (${KEY_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`)));
}

/** The file through KeysToRowKeys ('stage') in `chunk`-byte pieces, into a table like stage_row_key. */
async function staged(file: Buffer, chunk: number): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS staged_keys; CREATE TABLE staged_keys (updater text NOT NULL, hash bytea NOT NULL, digest bytea NOT NULL,
    vuln_at bigint NOT NULL, vuln_bytes bigint NOT NULL, alias_at bigint NOT NULL, alias_bytes bigint NOT NULL, ord bigint NOT NULL)`);
  await pipeline(Readable.from(chunksOf(file, chunk)), new KeysToRowKeys(KEYS, UPDATER, new LineNumbers(), 'stage'),
    client.query(copyFrom(`COPY staged_keys (${STAGE_KEY_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT binary)`)));
}

describe('KeysToRowKeys (stage): a staged keys file, as stage_row_key rows in one pass', () => {
  async function expectStaged(file: Buffer, chunk: number): Promise<void> {
    await typedFileRows(file);
    await staged(file, chunk);
    const expected = await client.query(
      'SELECT $1::text AS updater, hash, digest, vuln_at, vuln_bytes, alias_at, alias_bytes, record AS ord FROM typed_rows ORDER BY record', [UPDATER]);
    const got = await client.query('SELECT * FROM staged_keys ORDER BY ctid');
    expect(expected.rows).toHaveLength(50);
    expect(got.rows).toEqual(expected.rows);
  }

  it.each(CHUNKS)('gives each record its updater, every field and its number (chunks of %i bytes)', async (chunk) => {
    await expectStaged(csv, chunk);
  });

  it.each(CHUNKS)('reads the CSV as COPY does: unquoted fields, a place of 0, no newline at the end (chunks of %i bytes)', async (chunk) => {
    const l = lines();
    l[4] = l[4].replace(/,"([0-9]+)","([0-9]+)"$/, ',$1,$2'); // its last two fields unquoted
    l[9] = l[9].replace(/"[0-9]+"$/, '"0"'); // no alias bytes
    await expectStaged(Buffer.from(l.join('\n').replace(/\n$/, '')), chunk);
  });

  it.each([
    ['negative', '"-1"', 'vuln_bytes "-1"'],
    ['a fraction', '"1.5"', 'vuln_bytes "1.5"'],
    ['empty', '""', 'vuln_bytes ""'],
    ['empty and unquoted (NULL)', '', 'vuln_bytes NULL'],
    ['past 2^53', '"12345678901234567"', 'vuln_bytes "12345678901234567"'],
  ])('refuses a place that is %s, naming the file and record, exit 3', async (_what, value, shown) => {
    const l = lines();
    l[5] = l[5].replace(/^("[^"]*","[^"]*","[^"]*",)"[0-9]+"/, `$1${value}`);
    const err = await staged(Buffer.from(l.join('\n')), 64).then(() => { throw new Error('not refused'); }, (e: { exitCode?: number; message: string }) => e);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(`${KEYS} record 6: ${shown} is not a whole number, as a bundle holds it`);
  });

  it('refuses a hash that is not hex, naming the file and record, exit 3', async () => {
    const l = lines();
    l[5] = l[5].replace(/^"\\x[0-9a-f]{2}/, '"\\xzz');
    const err = await staged(Buffer.from(l.join('\n')), 64).then(() => { throw new Error('not refused'); }, (e: { exitCode?: number; message: string }) => e);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`${KEYS} record 6: hash "\\\\xzz`);
    expect(err.message).toContain('is not \\x and hex digits, as a bundle holds it');
  });
});
