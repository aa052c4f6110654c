import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvToCopyText, LineNumbers } from '../../src/load/csv-to-copy-text.js';
import { RowKeyRows } from '../../src/load/row-key-rows.js';
import { KEY_COLUMNS } from '../../src/model/row.js';
import { chunksOf } from '../helpers/chunks.js';
import { createEmptyDb } from '../helpers/db.js';
import { EXAMPLE_A, makeBundle, variations } from '../helpers/records.js';

// The keys file of a bundle the build wrote, as the load COPYs the keys of the updater copied
// straight into vuln into clair_bundle.row_key (src/load/row-key-rows.ts): each record's updater,
// digest and id (the shift + its line). The truth here: the same file read by COPY's CSV mode,
// each record numbered by its line, however the file is cut into chunks.
const KEYS = 'keys/debian%2Fupdater.csv';
// An updater name COPY's text format escapes (a tab, a backslash).
const UPDATER = 'deb\tian\\updater';
const SHIFT = 1_000_000_007;

let client: pg.Client;
let csv: Buffer;

beforeAll(async () => {
  client = new pg.Client(await createEmptyDb());
  await client.connect();
  const { dir } = await makeBundle([{ name: 'debian/updater', records: variations(EXAMPLE_A, 50) }], '2026-01-01T00:00:00Z');
  csv = await readFile(path.join(dir, KEYS));
  await client.query(`CREATE TABLE file_rows (line bigint GENERATED ALWAYS AS IDENTITY, ${KEY_COLUMNS.map((c) => `${c} bytea`).join(', ')})`);
  await pipeline(Readable.from([csv]), client.query(copyFrom(`COPY file_rows (${KEY_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`)));
});

afterAll(async () => {
  await client?.end();
});

/** The file through CsvToCopyText (numbered from the shift) and RowKeyRows in `chunk`-byte pieces, into `row_key`. */
async function copied(file: Buffer, chunk: number): Promise<void> {
  await client.query('DROP TABLE IF EXISTS row_key; CREATE TABLE row_key (updater text NOT NULL, digest bytea NOT NULL, vuln bigint)');
  await pipeline(Readable.from(chunksOf(file, chunk)), new CsvToCopyText(KEYS, new LineNumbers(SHIFT)), new RowKeyRows(KEYS, UPDATER),
    client.query(copyFrom('COPY row_key (updater, digest, vuln) FROM STDIN WITH (FORMAT text)')));
}

describe('RowKeyRows: the keys of the file copied straight into vuln, as row_key rows', () => {
  it.each([1, 7, 64, 1 << 16])('gives each record its updater, its digest and the shift + its line (chunks of %i bytes)', async (chunk) => {
    await copied(csv, chunk);
    const expected = await client.query(`SELECT $1::text AS updater, digest, $2::bigint + line AS vuln FROM file_rows ORDER BY line`, [UPDATER, SHIFT]);
    expect(expected.rows.length).toBe(50);
    const got = await client.query('SELECT updater, digest, vuln FROM row_key ORDER BY vuln');
    expect(got.rows).toEqual(expected.rows);
  });

  it('refuses a record without the six fields, naming the file and record (exit 3)', async () => {
    const lines = csv.toString().split('\n');
    lines[3] = lines[3].replace(/,"[0-9]+"$/, '');
    const err = await copied(Buffer.from(lines.join('\n')), 64).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(3);
    expect((err as Error).message).toBe(`${KEYS} record 4: 5 fields, a keys file has 6`);
  });
});
