import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import { readArchive } from '../../../../src/feeds/archive.js';
import { writeFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { documentRecords } from '../../../../src/feeds/rhel-vex/parse.js';
import { RULES } from '../../../../src/feeds/rhel-vex/rules.js';
import { vulnHash } from '../../../../src/model/hash.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';
import { DEFAULT_FEEDS_DIR } from '../../../helpers/feed-server.js';
import { parseContext, snapshot } from './helpers.js';

/** The fixture directory laid out like the upstream feed, used directly as the part directory. */
const VEX_DIR = path.join(DEFAULT_FEEDS_DIR, 'rhel-vex/csaf/v2/vex');

const hashes = (rs: Vulnerability[]) => new Set(rs.map(vulnHash));
const names = (rs: Vulnerability[]) => new Set(rs.map((r) => r.name));
const opts = { rules: RULES['claircore-v1.5.54'] };
const looseRecords = async (rel: string) => documentRecords(await readFile(path.join(VEX_DIR, rel)), rel, opts);
async function archiveDocs(): Promise<{ name: string; records: Vulnerability[] }[]> {
  const out = [];
  for await (const e of readArchive(path.join(VEX_DIR, 'csaf_vex_2023-11-16.tar.zst'))) out.push({ name: e.name, records: documentRecords(e.body, e.name, opts) });
  return out;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'vex-snapshot-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('feeds/rhel-vex: offline snapshot of the fixture mirror', () => {
  it('= loose documents changed after the archive (years >= 2015) + archive documents not changed', async () => {
    const rs = await snapshot(parseContext(tmp, VEX_DIR));
    const changed = (await readFile(path.join(VEX_DIR, 'changes.csv'), 'utf8')).trim().split('\n').map((l) => JSON.parse(`[${l}]`)[0] as string);
    const want: Vulnerability[] = [];
    for (const rel of changed.filter((p) => !p.startsWith('2002/'))) want.push(...(await looseRecords(rel)));
    for (const e of await archiveDocs()) if (!changed.some((p) => p.endsWith('/' + path.basename(e.name)))) want.push(...e.records);
    expect(rs.length).toBe(want.length);
    expect(rs.map(vulnHash).sort()).toEqual(want.map(vulnHash).sort());
    const got = names(rs);
    for (const id of ['CVE-2025-59840', 'CVE-2021-44228', 'CVE-2024-50602', 'CVE-2023-6228', 'CVE-2023-1370']) expect(got).toContain(id);
    for (const id of ['CVE-2002-0803', 'CVE-2024-44943', 'CVE-2024-5480']) expect(got).not.toContain(id);
  });

  it('a CVE updated by a loose document has only the loose document’s rows', async () => {
    const rs = await snapshot(parseContext(tmp, VEX_DIR));
    const archive = await archiveDocs();
    for (const rel of ['2023/cve-2023-1370.json', '2023/cve-2023-2454.json']) {
      const loose = await looseRecords(rel);
      const old = archive.find((e) => e.name === rel)!.records;
      const mine = rs.filter((r) => r.name === loose[0].name);
      expect(mine).toHaveLength(loose.length);
      expect(hashes(mine)).toEqual(hashes(loose));
      expect(old.some((r) => !hashes(loose).has(vulnHash(r)))).toBe(true);
    }
  });

  it('a CVE deleted after the archive time has no rows, whether from the archive or a loose document', async () => {
    const dir = path.join(tmp, 'deleted');
    await cp(VEX_DIR, dir, { recursive: true });
    const changes = await readFile(path.join(VEX_DIR, 'changes.csv'), 'utf8');
    // Without its changes.csv line, CVE-2023-1436 comes from the archive …
    await writeFile(path.join(dir, 'changes.csv'), changes.split('\n').filter((l) => !l.includes('cve-2023-1436')).join('\n'));
    const fromArchive = (await archiveDocs()).find((e) => e.name === '2023/cve-2023-1436.json')!.records;
    let rs = await snapshot(parseContext(tmp, dir));
    expect(hashes(rs.filter((r) => r.name === 'CVE-2023-1436'))).toEqual(hashes(fromArchive));
    // … and a deletion after the archive time removes it, as it removes a loose document's CVE.
    const deletions = await readFile(path.join(VEX_DIR, 'deletions.csv'), 'utf8');
    await writeFile(path.join(dir, 'deletions.csv'), `${deletions}"2023/cve-2023-1436.json","2024-01-01T00:00:00+00:00"\n"2023/cve-2023-1370.json","2025-12-01T00:00:00+00:00"\n`);
    rs = await snapshot(parseContext(tmp, dir));
    expect(names(rs)).not.toContain('CVE-2023-1436');
    expect(names(rs)).not.toContain('CVE-2023-1370');
    expect(names(rs)).toContain('CVE-2023-2454');
  });

  it('uses the archive Last-Modified from the fetch record when there is one', async () => {
    const mirror = path.join(tmp, 'recorded');
    await cp(VEX_DIR, path.join(mirror, 'rhel-vex'), { recursive: true });
    const file = { part: 'rhel-vex', path: 'csaf_vex_2023-11-16.tar.zst', url: '', etag: '', sha256: '', size: 0, fetchedAt: '' };
    // Last-Modified after every changes.csv row: the snapshot is the archive alone.
    await writeFetchRecord(mirror, { feed: 'rhel-vex', fetchedAt: '', baseUrls: {}, files: [{ ...file, lastModified: 'Tue, 01 Dec 2026 00:00:00 GMT' }] });
    const rs = await snapshot(parseContext(mirror));
    const want = (await archiveDocs()).flatMap((e) => e.records);
    expect(rs.map(vulnHash).sort()).toEqual(want.map(vulnHash).sort());
  });

  it('fails with a FeedError when a changed document is missing from the mirror', async () => {
    const dir = path.join(tmp, 'missing');
    await cp(VEX_DIR, dir, { recursive: true });
    await rm(path.join(dir, '2024/cve-2024-34500.json'));
    const err = await snapshot(parseContext(tmp, dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect((err as FeedError).file).toBe('rhel-vex/2024/cve-2024-34500.json');
  });

  it('fails with a FeedError naming the archive and entry for a malformed archive document', async () => {
    const dir = path.join(tmp, 'badentry');
    await cp(VEX_DIR, dir, { recursive: true });
    await cp(path.resolve(import.meta.dirname, '../../../fixtures/rhel-vex/truncated.tar.zst'), path.join(dir, 'csaf_vex_2023-11-16.tar.zst'));
    const err = await snapshot(parseContext(tmp, dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect((err as FeedError).file).toBe('rhel-vex/csaf_vex_2023-11-16.tar.zst');
  });

  it('rejects an unknown rules target', async () => {
    await expect(snapshot(parseContext(tmp, VEX_DIR, { 'rhel-vex-rules': 'v0' }))).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
