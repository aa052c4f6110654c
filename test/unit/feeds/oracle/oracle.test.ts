import { mkdir, mkdtemp, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, FeedError } from '../../../../src/errors.js';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { oracle } from '../../../../src/feeds/oracle/index.js';
import { rpmFileRecords } from '../../../../src/feeds/oval/index.js';
import { kspliceOnly, yearUpdater } from '../../../../src/feeds/oracle/parse.js';
import { normalizeSeverity, platformDist, yearsOption } from '../../../../src/feeds/oracle/upstream.js';
import type { VulnerabilityOutput } from '../../../../src/feeds/types.js';
import { silentLogger } from '../../../../src/log.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';
import { startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { GOLDEN_COLUMNS, byCodeUnit, ourLines, readGolden } from '../oval/claircore-golden.js';

const FEEDS = path.resolve(import.meta.dirname, '../../../../../shared/fixtures/feeds');
const LOCAL = path.resolve(import.meta.dirname, '../../../fixtures/oracle');
const ELSA_ALL = path.join(FEEDS, 'oracle-oval/security/oval/com.oracle.elsa-all.xml.bz2');

async function records(file: string, year: number, display = path.basename(file)): Promise<Vulnerability[]> {
  const u = yearUpdater(year);
  const out: Vulnerability[] = [];
  for await (const v of rpmFileRecords({ path: file, display, feed: 'oracle', compression: u.compression }, (d) => u.protos(d))) out.push(v);
  return out;
}

describe('oracle (claircore oracle Parse + ovalutil RPMDefsToVulns)', () => {
  it('claircore TestParse: com.oracle.elsa-2018.xml gives 6021 records, the ones claircore gives', async () => {
    const rs = await records(path.join(LOCAL, 'com.oracle.elsa-2018.xml.bz2'), 2018);
    expect(rs).toHaveLength(6021);
    const golden = readGolden(path.join(LOCAL, 'claircore-elsa-2018.tsv.gz'));
    expect(golden.header).toEqual(GOLDEN_COLUMNS);
    expect(ourLines(rs)).toEqual(golden.lines.sort(byCodeUnit));
    // userspace_ksplice-only errata (8 in this file, e.g. ELSA-2018-4077) give no record.
    expect(rs.some((r) => r.name.includes('ELSA-2018-4077'))).toBe(false);
    expect(rs.some((r) => r.name.includes('ELSA-2018-4001'))).toBe(true);
  });

  it('the shared ELSA excerpt: title verbatim (newlines kept), issued date, module streams, Dist per platform', async () => {
    const rs = await records(ELSA_ALL, 2023);
    expect(ourLines(rs)).toEqual(readGolden(path.join(LOCAL, 'claircore-elsa-all.tsv.gz')).lines.sort(byCodeUnit));
    expect(rs[0]).toMatchObject({
      updater: 'oracle-2023-updater', name: '\nELSA-2007-0057:  Moderate: bind security update  (MODERATE)\n', issued: '2007-06-26T00:00:00Z',
      severity: 'MODERATE', normalizedSeverity: 'Medium', fixedInVersion: '30:9.3.3-8.el5', archOperation: 'invalid', repo: null, range: null,
      links: 'https://linux.oracle.com/errata/ELSA-2007-0057.html https://linux.oracle.com/cve/CVE-2007-0493.html https://linux.oracle.com/cve/CVE-2007-0494.html',
      package: { name: 'bind', version: '', module: '', arch: '', kind: 'binary' },
      dist: { did: 'ol', name: 'Oracle Linux Server', version: '5', versionId: '5', versionCodeName: 'Oracle Linux 5', prettyName: 'Oracle Linux Server 5', cpe: '', arch: '' },
    });
    expect(rs.at(-1)).toMatchObject({ package: { name: 'hivex', module: 'virt:kvm_utils' }, fixedInVersion: '0:1.3.18-21.module+el8.7.0+21037+8ee66348', normalizedSeverity: 'High' });
  });

  it('maps Oracle Linux 5–9 only, and severities by exact upper-case name', () => {
    expect(['Oracle Linux 5', 'Oracle Linux 9', 'Oracle Linux 10', 'oracle linux 8', 'toString'].map((p) => platformDist(p)?.version)).toEqual(['5', '9', undefined, undefined, undefined]);
    expect(['N/A', 'LOW', 'MODERATE', 'IMPORTANT', 'CRITICAL', 'Important', ''].map(normalizeSeverity))
      .toEqual(['Unknown', 'Low', 'Medium', 'High', 'Critical', 'Unknown', 'Unknown']);
  });

  it('drops a definition only when every affected CPE is userspace_ksplice (an unparsable CPE keeps it)', () => {
    expect(kspliceOnly([])).toBe(false);
    expect(kspliceOnly(['cpe:/a:oracle:linux:7::userspace_ksplice'])).toBe(true);
    expect(kspliceOnly(['cpe:/a:oracle:linux:7::userspace_ksplice', 'cpe:/a:oracle:linux:7::latest'])).toBe(false);
    expect(kspliceOnly(['cpe:/a:oracle:linux:7::userspace_ksplice', 'not a cpe'])).toBe(false);
    expect(kspliceOnly(['cpe:2.3:a:oracle:linux:7:*:userspace_ksplice:*:*:*:*:*'])).toBe(true);
  });

  it('oracle-years takes years and ranges from 2007', () => {
    expect(yearsOption({})).toBeUndefined();
    expect(yearsOption({ 'oracle-years': '2024, 2020-2022,2020' })).toEqual([2020, 2021, 2022, 2024]);
    for (const bad of ['2006', '20x1', '2022-2020', ' , ']) expect(() => yearsOption({ 'oracle-years': bad })).toThrow(ConfigError);
  });

  it('refuses broken XML, a truncated bzip2 stream, and a file that is not bzip2, naming the file', async () => {
    await expect(records(path.join(LOCAL, 'broken.xml.bz2'), 2023, 'oracle/broken.xml.bz2')).rejects.toMatchObject({
      code: 'FEED_INVALID', exitCode: 3, place: { feed: 'oracle', file: 'oracle/broken.xml.bz2', record: expect.stringMatching(/line 13, column \d+/) },
    });
    await expect(records(path.join(LOCAL, 'truncated.xml.bz2'), 2023, 'oracle/truncated.xml.bz2')).rejects.toMatchObject({
      code: 'FEED_INVALID', place: { feed: 'oracle', file: 'oracle/truncated.xml.bz2' },
    });
    const plain = path.join(FEEDS, 'photon-oval/photon/photon_oval_definitions/com.vmware.phsa-photon3.xml');
    const err = await records(plain, 2023, 'oracle/com.oracle.elsa-2023.xml.bz2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect((err as Error).message).toMatch(/corrupt or truncated bzip2 stream/);
  });
});

describe('oracle fetch → parse', () => {
  let server: FeedServer;
  let root: string;
  beforeAll(async () => {
    // Upstream layout holding one real yearly file (claircore's testdata copy of com.oracle.elsa-2018.xml).
    root = await mkdtemp(path.join(os.tmpdir(), 'oracle-upstream-'));
    await mkdir(path.join(root, 'security/oval'), { recursive: true });
    await symlink(path.join(LOCAL, 'com.oracle.elsa-2018.xml.bz2'), path.join(root, 'security/oval/com.oracle.elsa-2018.xml.bz2'));
    server = await startFeedServer({ root });
  });
  afterAll(() => server?.close());

  it('asks for every year from 2007 to now by default; absent years get no updater; parse builds the fetched years', async () => {
    const mirror = await mkdtemp(path.join(os.tmpdir(), 'oracle-fetch-'));
    const ctx = { mirror, partDir: (p: string) => path.join(mirror, p), log: silentLogger, options: {} };
    const baseUrls = { oracle: `${server.url}/security/oval/` };
    await oracle.fetch({ ...ctx, baseUrls });
    const now = new Date().getFullYear();
    const asked = server.log.map((r) => [r.path, r.status]).sort();
    expect(asked).toEqual(Array.from({ length: now - 2006 }, (_, i) => [`/security/oval/com.oracle.elsa-${2007 + i}.xml.bz2`, 2007 + i === 2018 ? 200 : 404]));
    const rec = await readFetchRecord(mirror, 'oracle');
    expect(rec?.files.map((f) => f.path)).toEqual(['com.oracle.elsa-2018.xml.bz2']);
    expect(rec?.absent).toHaveLength(now - 2007);
    const outputs: string[] = [];
    for await (const o of oracle.parse(ctx)) outputs.push((o as VulnerabilityOutput).updater);
    expect(outputs).toEqual(['oracle-2018-updater']);

    // oracle-years narrows the fetch; the second GET of the same file is conditional.
    const before = server.log.length;
    await oracle.fetch({ ...ctx, baseUrls, options: { 'oracle-years': '2018' } });
    expect(server.log.slice(before).map((r) => [r.path, r.status, r.conditional])).toEqual([['/security/oval/com.oracle.elsa-2018.xml.bz2', 304, true]]);
    await expect(oracle.fetch({ ...ctx, baseUrls, options: { 'oracle-years': String(now + 1) } })).rejects.toBeInstanceOf(ConfigError);
    await expect((async () => {
      for await (const o of oracle.parse({ ...ctx, options: { 'oracle-years': '2019' } })) void o;
    })()).rejects.toMatchObject({ code: 'FEED_INVALID', place: { feed: 'oracle', file: 'oracle/com.oracle.elsa-2019.xml.bz2', record: 'oracle-2019-updater' } });
  });
});
