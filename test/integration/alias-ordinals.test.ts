import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAgain, KeyOrdinals } from '../../src/load/alias-ordinals.js';
import { CsvToCopyText } from '../../src/load/csv-to-copy-text.js';
import { ALIAS_COLUMNS, VULN_COLUMNS } from '../../src/model/row.js';
import type { Vulnerability } from '../../src/model/vulnerability.js';
import { chunksOf } from '../helpers/chunks.js';
import { createEmptyDb } from '../helpers/db.js';
import { EXAMPLE_A, makeBundle, variations } from '../helpers/records.js';

// The alias file of a bundle the build wrote, numbered from its keys file while it is converted:
// each record must get the number of its hash's record in the vulnerability file, as PostgreSQL
// reads that file (the truth here), however the two files are cut into chunks.
const VULN = 'vulnerabilities/debian%2Fupdater.csv';
const ALIASES = 'aliases/debian%2Fupdater.csv';
const KEYS = 'keys/debian%2Fupdater.csv';
// Every second record has a self and two aliases, one of them shared.
const RECORDS: Vulnerability[] = variations(EXAMPLE_A, 60).map((r, i) => (i % 2 === 0
  ? { ...r, self: { space: 'DEBIAN', name: `DSA-${i}` }, aliases: [{ space: 'CVE', name: `2024-${1000 + i}` }, { space: 'CVE', name: '2024-0001' }] } : r));

let client: pg.Client;
let dir: string;

beforeAll(async () => {
  client = new pg.Client(await createEmptyDb());
  await client.connect();
  ({ dir } = await makeBundle([{ name: 'debian/updater', records: RECORDS }], '2026-01-01T00:00:00Z'));
  const cols = VULN_COLUMNS.map((c) => `${c} text`).join(', ');
  await client.query(`CREATE TABLE vuln_file (ord bigint GENERATED ALWAYS AS IDENTITY, ${cols})`);
  await copyInto(`COPY vuln_file (${VULN_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`, await readFile(path.join(dir, VULN)));
});

afterAll(async () => {
  await client?.end();
});

async function copyInto(statement: string, ...chunks: Buffer[]): Promise<void> {
  await pipeline(Readable.from(chunks), client.query(copyFrom(statement)));
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The alias CSV (`aliases`, default: the bundle's), converted and numbered from `keysFile`, in the database. */
async function numbered(o: { aliases?: Buffer; keysFile?: string; keysSha?: string; aliasChunk: number; keyChunk: number }): Promise<{ numbering: KeyOrdinals }> {
  const keysFile = o.keysFile ?? path.join(dir, KEYS);
  const numbering = new KeyOrdinals(new FileAgain(keysFile, { path: KEYS, sha256: o.keysSha ?? sha256(await readFile(keysFile)) }, o.keyChunk));
  await client.query(`DROP TABLE IF EXISTS numbered; CREATE TABLE numbered (${ALIAS_COLUMNS.map((c) => `${c} text`).join(', ')}, ord bigint)`);
  const aliases = o.aliases ?? await readFile(path.join(dir, ALIASES));
  await pipeline(Readable.from(chunksOf(aliases, o.aliasChunk)), new CsvToCopyText(ALIASES, numbering),
    client.query(copyFrom(`COPY numbered (${ALIAS_COLUMNS.join(', ')}, ord) FROM STDIN WITH (FORMAT text)`)));
  return { numbering };
}

/** Each numbered alias record: its hash, name and number, and the number of its hash's record in the vulnerability file. */
async function compared(): Promise<{ hash: string; name: string; ord: string | null; expected: string | null }[]> {
  return (await client.query(`SELECT a.hash, a.name, a.ord::text AS ord, v.ord::text AS expected
    FROM numbered a LEFT JOIN vuln_file v ON v.hash = a.hash ORDER BY a.hash, a.kind, a.namespace, a.name`)).rows;
}

describe('KeyOrdinals: the alias file of the updater copied straight into vuln, numbered by its keys', () => {
  it.each([[1, 1], [7, 61], [61, 7], [1 << 16, 3], [2, 1 << 18]])('numbers every record with its vulnerability record (alias chunks of %i bytes, keys read %i at a time)', async (aliasChunk, keyChunk) => {
    const { numbering } = await numbered({ aliasChunk, keyChunk });
    const rows = await compared();
    expect(rows.length).toBe(30 * 3);
    expect(new Set(rows.map((r) => r.ord)).size).toBe(30);
    expect(rows.filter((r) => r.ord !== r.expected)).toEqual([]);
    expect(numbering.numbered).toBe(rows.length);
  });

  it('leaves NULL a record whose hash no key has, and numbers the others', async () => {
    const csv = (await readFile(path.join(dir, ALIASES), 'utf8')).split('\n');
    const none = (hex: string) => `"\\x${hex}","alias","CVE","2099-0000"`;
    // Before every key and after every key (the file stays sorted by hash), and a record of a wrong shape.
    const edited = [csv[0], none('0'.repeat(32)), ...csv.slice(1, -1), none('f'.repeat(32)), '"x","alias","CVE","2099-0001"', ''].join('\n');
    const { numbering } = await numbered({ aliases: Buffer.from(edited), aliasChunk: 5, keyChunk: 11 });
    const rows = await compared();
    expect(rows.filter((r) => r.name.startsWith('2099-'))).toEqual([
      { hash: '\\x00000000000000000000000000000000', name: '2099-0000', ord: null, expected: null },
      { hash: '\\xffffffffffffffffffffffffffffffff', name: '2099-0000', ord: null, expected: null },
      { hash: 'x', name: '2099-0001', ord: null, expected: null },
    ]);
    expect(rows.filter((r) => !r.name.startsWith('2099-') && r.ord !== r.expected)).toEqual([]);
    expect(numbering.numbered).toBe(90);
  });

  it('stops numbering at a key of another shape (never numbers wrongly), and numbers what comes before it', async () => {
    const keys = (await readFile(path.join(dir, KEYS), 'utf8')).split('\n');
    keys[11] = keys[11].replace('"\\x', '"');
    const keysFile = path.join(dir, '..', 'keys-damaged.csv');
    await writeFile(keysFile, keys.join('\n'));
    await numbered({ keysFile, aliasChunk: 13, keyChunk: 17 });
    const rows = await compared();
    const fromKey11 = rows.filter((r) => Number(r.expected) >= 11);
    expect(fromKey11.length).toBeGreaterThan(0);
    expect(fromKey11.filter((r) => r.ord !== null)).toEqual([]);
    expect(rows.filter((r) => Number(r.expected) < 11 && r.ord !== r.expected)).toEqual([]);
    expect(rows.filter((r) => Number(r.expected) < 11).length).toBeGreaterThan(0);
  });

  it('refuses a keys file that no longer matches its checksum in the manifest when read again', async () => {
    const err = await numbered({ keysSha: '0'.repeat(64), aliasChunk: 1 << 16, keyChunk: 1 << 16 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${KEYS} changed while it was being loaded (read again, it no longer matches its checksum in the manifest)`);
    expect((err as { exitCode?: number }).exitCode).toBe(3);
  });
});
