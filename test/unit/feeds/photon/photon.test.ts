import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { rpmFileRecords } from '../../../../src/feeds/oval/index.js';
import { photon } from '../../../../src/feeds/photon/index.js';
import { releaseUpdater } from '../../../../src/feeds/photon/parse.js';
import { normalizeSeverity, ovalFile, releaseDist, selectReleases, updaterName } from '../../../../src/feeds/photon/upstream.js';
import type { VulnerabilityOutput } from '../../../../src/feeds/types.js';
import { silentLogger } from '../../../../src/log.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';
import { startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { byCodeUnit, ourLines, readGolden } from '../oval/claircore-golden.js';

const FEEDS = path.resolve(import.meta.dirname, '../../../../../shared/fixtures/feeds');
const LOCAL = path.resolve(import.meta.dirname, '../../../fixtures/photon');
const PHOTON3 = path.join(FEEDS, 'photon-oval/photon/photon_oval_definitions/com.vmware.phsa-photon3.xml');

async function records(file: string, display = path.basename(file)): Promise<Vulnerability[]> {
  const u = releaseUpdater('3.0');
  const out: Vulnerability[] = [];
  for await (const v of rpmFileRecords({ path: file, display, feed: 'photon' }, (d) => u.protos(d))) out.push(v);
  return out;
}

async function drain(outputs: AsyncIterable<unknown>): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for await (const o of outputs as AsyncIterable<VulnerabilityOutput>) {
    rows[o.updater] = 0;
    for await (const r of o.records) if (r) rows[o.updater]++;
  }
  return rows;
}

describe('photon (claircore v1.5.54 photon Parse + ovalutil RPMDefsToVulns)', () => {
  it('names, files and Dists of claircore\'s five releases', () => {
    expect(selectReleases({}).map((r) => [updaterName(r), ovalFile(r)])).toEqual([
      ['photon-updater-1.0', 'com.vmware.phsa-photon1.xml'], ['photon-updater-2.0', 'com.vmware.phsa-photon2.xml'],
      ['photon-updater-3.0', 'com.vmware.phsa-photon3.xml'], ['photon-updater-4.0', 'com.vmware.phsa-photon4.xml'],
      ['photon-updater-5.0', 'com.vmware.phsa-photon5.xml'],
    ]);
    expect(releaseDist('4.0')).toEqual({
      did: 'photon', name: 'VMware Photon OS', version: '4.0', versionCodeName: '', versionId: '4.0', arch: '', cpe: '', prettyName: 'VMware Photon OS/Linux',
    });
    expect(['Low', 'Moderate', 'Important', 'Critical', 'important', 'None'].map(normalizeSeverity)).toEqual(['Low', 'Medium', 'High', 'Critical', 'Unknown', 'Unknown']);
    expect(selectReleases({ 'photon-releases': '5, 3.0' })).toEqual(['3.0', '5.0']);
    expect(() => selectReleases({ 'photon-releases': '6.0' })).toThrow(ConfigError);
  });

  it('com.vmware.phsa-photon3.xml gives the 778 records claircore gives; spec §12 example', async () => {
    const rs = await records(PHOTON3);
    expect(ourLines(rs)).toEqual(readGolden(path.join(LOCAL, 'claircore-phsa-photon3.tsv.gz')).lines.sort(byCodeUnit));
    expect(rs).toHaveLength(778);
    expect(rs[0]).toMatchObject({
      updater: 'photon-updater-3.0', name: 'PHSA-2020:00001 sqlite Security Update. (Important)', issued: '2019-10-23T00:00:00Z',
      links: 'https://github.com/vmware/photon/wiki/Security-Updates-3.0-0036 https://nvd.nist.gov/vuln/detail?vulnId=CVE-2019-16168',
      severity: 'Important', normalizedSeverity: 'High', fixedInVersion: '0:3.27.2-5.ph3', archOperation: 'invalid',
      package: { name: 'sqlite', version: '', module: '', arch: '', kind: 'binary' }, dist: releaseDist('3.0'),
    });
    // "is signed with VMware key" / "Photon OS 3.0 is installed" criteria have no <evr> and give no record.
    expect(rs.every((r) => r.fixedInVersion !== '')).toBe(true);
  });

  it('refuses broken and truncated XML, naming the file and position', async () => {
    await expect(records(path.join(LOCAL, 'broken.xml'), 'photon/broken.xml')).rejects.toMatchObject({
      code: 'FEED_INVALID', exitCode: 3, place: { feed: 'photon', file: 'photon/broken.xml', record: expect.stringMatching(/^line 12, column \d+$/) },
    });
    await expect(records(path.join(LOCAL, 'truncated.xml'), 'photon/truncated.xml')).rejects.toMatchObject({
      code: 'FEED_INVALID', place: { file: 'photon/truncated.xml', record: expect.stringMatching(/line \d+, column \d+/) },
    });
  });
});

describe('photon fetch → parse', () => {
  let server: FeedServer;
  beforeAll(async () => {
    server = await startFeedServer({ root: FEEDS });
  });
  afterAll(() => server?.close());

  it('GETs every release file, records 404s as absent, builds what was fetched; re-fetch is conditional', async () => {
    const mirror = await mkdtemp(path.join(os.tmpdir(), 'photon-fetch-'));
    const ctx = { mirror, partDir: (p: string) => path.join(mirror, p), log: silentLogger, options: {} };
    const baseUrls = { photon: `${server.url}/photon-oval/photon/photon_oval_definitions` };
    await photon.fetch({ ...ctx, baseUrls });
    const dir = '/photon-oval/photon/photon_oval_definitions/';
    expect(server.log.map((r) => [r.method, r.path, r.status]).sort()).toEqual([1, 2, 3, 4, 5].map((n) => ['GET', `${dir}com.vmware.phsa-photon${n}.xml`, n === 3 ? 200 : 404]));
    const rec = await readFetchRecord(mirror, 'photon');
    expect(rec?.files.map((f) => f.path)).toEqual(['com.vmware.phsa-photon3.xml']);
    expect(rec?.absent?.map((a) => a.path)).toEqual(['com.vmware.phsa-photon1.xml', 'com.vmware.phsa-photon2.xml', 'com.vmware.phsa-photon4.xml', 'com.vmware.phsa-photon5.xml']);
    expect(await drain(photon.parse(ctx))).toEqual({ 'photon-updater-3.0': 778 });

    const before = server.log.length;
    await photon.fetch({ ...ctx, baseUrls, options: { 'photon-releases': '3.0' } });
    expect(server.log.slice(before).map((r) => [r.path, r.status, r.conditional])).toEqual([[`${dir}com.vmware.phsa-photon3.xml`, 304, true]]);
    // Without the option, build takes what the last fetch asked for; a release it did not ask for cannot be built.
    expect(await drain(photon.parse(ctx))).toEqual({ 'photon-updater-3.0': 778 });
    await expect(drain(photon.parse({ ...ctx, options: { 'photon-releases': '4.0' } }))).rejects.toMatchObject({
      code: 'FEED_INVALID', place: { feed: 'photon', file: 'photon/com.vmware.phsa-photon4.xml', record: 'photon-updater-4.0' },
    });
  });
});
