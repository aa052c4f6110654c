import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { csvHeader, csvLine } from '../../src/bundle/csv.js';
import { CopiedRowChecks, LONG_LOOKUP_BYTES } from '../../src/load/copied-row-checks.js';
import { CsvToCopyBinary } from '../../src/load/csv-to-copy-binary.js';
import { LineNumbers } from '../../src/load/csv-to-copy-text.js';
import { LeftOutRecords } from '../../src/load/not-vulnerable-filter.js';
import { VULN_COLUMNS, vulnRow, type Cell } from '../../src/model/row.js';
import { chunksOf } from '../helpers/chunks.js';
import { EXAMPLE_A, notVulnerable, variations } from '../helpers/records.js';

// The rows copied straight into vuln are held, while node converts them, to what direct-end.sql
// held them to after the COPY (stage_vuln's constraints: sql/load/create-staging.sql): the file's
// updater, no NULL where vuln's text is required, the values Clair reads for normalized_severity,
// package_kind and arch_operation, a package name. The first problem of a record in the order
// direct-end.sql ranks them is its problem; a record a schema < 18 leaves out is not copied, nor
// refused. Records with long vuln_lookup_idx columns are noted by id.
const FILE = 'vulnerabilities/debian%2Fupdater.csv';
const SHIFT = 100;
const col = (name: string) => (VULN_COLUMNS as readonly string[]).indexOf(name);
const base = (): Cell[][] => [...variations(EXAMPLE_A, 6), notVulnerable(EXAMPLE_A)].map((v) => vulnRow(v)).map((r) => [`\\x${r[0]}`, ...r.slice(1)]);

async function convert(rows: Cell[][], o: { leaveOut?: boolean; chunk?: number } = {}): Promise<CopiedRowChecks> {
  const csv = Buffer.from(csvHeader(VULN_COLUMNS) + rows.map((r) => csvLine(r)).join(''));
  const checks = new CopiedRowChecks(VULN_COLUMNS, 'debian/updater');
  const left = o.leaveOut ? new LeftOutRecords(rows.length) : undefined;
  await pipeline(Readable.from(chunksOf(csv, o.chunk ?? 64)), new CsvToCopyBinary(FILE, VULN_COLUMNS, new LineNumbers(SHIFT), undefined, left, checks),
    new Writable({ write: (_c, _e, done) => done() }));
  return checks;
}

async function refusal(rows: Cell[][], o: { leaveOut?: boolean } = {}): Promise<{ exitCode?: number; message: string }> {
  return convert(rows, o).then(() => { throw new Error('not refused'); }, (e: { exitCode?: number; message: string }) => e);
}

/** The base rows with record `record` (from 1) changed by `edit`. */
function edited(record: number, edit: (r: Cell[]) => void): Cell[][] {
  const rows = base();
  edit(rows[record - 1]);
  return rows;
}

describe('CopiedRowChecks: the rows copied straight into vuln, checked as node converts them', () => {
  it.each([1, 7, 1 << 16])('passes the rows the build writes, noting none as long (chunks of %i bytes)', async (chunk) => {
    const checks = await convert(base(), { chunk });
    expect(checks.long).toEqual([]);
  });

  it.each([
    ['a row of another updater', (r: Cell[]) => { r[col('updater')] = 'osv/npm'; }, 'updater "osv/npm" in the file of updater debian/updater'],
    ['a NULL updater', (r: Cell[]) => { r[col('updater')] = null; }, 'updater NULL in the file of updater debian/updater'],
    ['a NULL text column', (r: Cell[]) => { r[col('dist_cpe')] = null; }, 'dist_cpe: an empty unquoted field (NULL) where a value is required'],
    ['a NULL time', (r: Cell[]) => { r[col('issued')] = null; }, 'issued: an empty unquoted field (NULL) where a value is required'],
    ['a normalized severity Clair cannot read', (r: Cell[]) => { r[col('normalized_severity')] = 'Huge'; },
      'normalized_severity "Huge" is not one of Unknown, Negligible, Low, Medium, High, Critical'],
    ['an empty package name', (r: Cell[]) => { r[col('package_name')] = ''; }, 'package_name is empty'],
    ['a package kind Clair does not have', (r: Cell[]) => { r[col('package_kind')] = 'Binary'; },
      'package_kind "Binary" is not one of source, binary, layer, ancestry or empty'],
    ['an arch operation Clair does not have', (r: Cell[]) => { r[col('arch_operation')] = 'like'; },
      'arch_operation "like" is not one of invalid, equals, not equals, pattern match'],
    // Two problems: the one direct-end.sql ranks first.
    ['a wrong updater and a NULL', (r: Cell[]) => { r[col('dist_cpe')] = null; r[col('updater')] = 'x'; }, 'updater "x" in the file of updater debian/updater'],
    ['a NULL and a wrong severity', (r: Cell[]) => { r[col('normalized_severity')] = 'Huge'; r[col('repo_uri')] = null; },
      'repo_uri: an empty unquoted field (NULL) where a value is required'],
    ['an empty package name and a wrong kind', (r: Cell[]) => { r[col('package_kind')] = 'x'; r[col('package_name')] = ''; }, 'package_name is empty'],
  ])('refuses %s, naming the file and record (exit 3)', async (_what, edit, message) => {
    const err = await refusal(edited(3, edit));
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(`${FILE} record 3: ${message}`);
  });

  it('takes NULL where vuln may hold it (version_kind, vulnerable_range) and the empty package kind', async () => {
    const checks = await convert(edited(2, (r) => { r[col('version_kind')] = null; r[col('vulnerable_range')] = null; r[col('package_kind')] = ''; }));
    expect(checks.long).toEqual([]);
  });

  it('does not refuse a record a schema < 18 leaves out (it is not copied)', async () => {
    const rows = base();
    const nv = rows.findIndex((r) => r[col('not_vulnerable')] === 't');
    rows[nv][col('normalized_severity')] = 'Huge';
    await convert(rows, { leaveOut: true });
    // Copied (schema >= 18), it is refused.
    expect((await refusal(rows)).message).toBe(`${FILE} record ${nv + 1}: normalized_severity "Huge" is not one of Unknown, Negligible, Low, Medium, High, Critical`);
  });

  it('notes by id the copied records whose vuln_lookup_idx columns take more than 2000 bytes, not those left out', async () => {
    const rows = base();
    rows[1][col('dist_cpe')] = 'c'.repeat(LONG_LOOKUP_BYTES);
    rows[4][col('repo_uri')] = 'u'.repeat(1000);
    rows[4][col('package_module')] = 'm'.repeat(1000);
    // Long only in columns outside the index: not noted.
    rows[5][col('description')] = 'd'.repeat(5000);
    const nv = rows.findIndex((r) => r[col('not_vulnerable')] === 't');
    rows[nv][col('dist_name')] = 'n'.repeat(3000);
    expect((await convert(rows)).long).toEqual([SHIFT + 2, SHIFT + 5, SHIFT + nv + 1]);
    expect((await convert(rows, { leaveOut: true })).long).toEqual([SHIFT + 2, SHIFT + 5]);
  });
});
