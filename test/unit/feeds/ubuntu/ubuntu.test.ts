import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import { releaseRecords, normalizeSeverity } from '../../../../src/feeds/ubuntu/parse.js';
import { decodeSeries, selectSeries, seriesDist } from '../../../../src/feeds/ubuntu/upstream.js';
import { silentLogger } from '../../../../src/log.js';
import { vulnHash } from '../../../../src/model/hash.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';

const FEEDS = path.resolve(import.meta.dirname, '../../../../../shared/fixtures/feeds');
const LOCAL = path.resolve(import.meta.dirname, '../../../fixtures/ubuntu');
const BIONIC = { name: 'bionic', version: '18.04', active: true };

async function records(file: string, display = file): Promise<Vulnerability[]> {
  const out: Vulnerability[] = [];
  for await (const v of releaseRecords({ path: file, display, feed: 'ubuntu' }, BIONIC, seriesDist(BIONIC), silentLogger)) out.push(v);
  return out;
}

describe('ubuntu series (claircore ubuntu/updaterset.go)', () => {
  it('makes the Dist claircore mkDist makes', () => {
    expect(seriesDist({ name: 'jammy', version: '22.04', active: true })).toEqual({
      did: 'ubuntu', name: 'Ubuntu', version: '22.04 (Jammy)', versionCodeName: 'jammy', versionId: '22.04', arch: '', cpe: '', prettyName: 'Ubuntu 22.04',
    });
  });
  it('selects active series by default, named ones (active or not) with ubuntu-releases', () => {
    const all = decodeSeries(readFileSync(path.join(LOCAL, 'launchpad/ubuntu/series'), 'utf8'), 'series');
    expect(selectSeries(all, undefined, 's').map((s) => s.name)).toEqual(['jammy', 'bionic']);
    expect(selectSeries(all, ['warty'], 's').map((s) => s.name)).toEqual(['warty']);
    expect(() => selectSeries(all, ['noble'], 's')).toThrow(FeedError);
    expect(() => decodeSeries('{"entries": [', 'series')).toThrow(/malformed JSON/);
  });
  it('normalizes only the exact severity names', () => {
    expect(['Negligible', 'Low', 'Medium', 'High', 'Critical', 'medium', 'Untriaged'].map(normalizeSeverity))
      .toEqual(['Negligible', 'Low', 'Medium', 'High', 'Critical', 'Unknown', 'Unknown']);
  });
});

describe('ubuntu OVAL → records (claircore ubuntu Parse + ovalutil DpkgDefsToVulns)', () => {
  it('bionic: one record per definition × dpkginfo criterion × binary package of the variable', async () => {
    const rs = await records(path.join(FEEDS, 'ubuntu-oval/oval/com.ubuntu.bionic.cve.oval.xml'));
    expect(rs.map((r) => [r.name, r.package?.name, r.fixedInVersion])).toEqual([
      ['CVE-2016-8703 on Ubuntu 18.04 LTS (bionic) - medium.', 'libpotrace0', '1.14-2'],
      ['CVE-2016-8703 on Ubuntu 18.04 LTS (bionic) - medium.', 'potrace', '1.14-2'],
      ['CVE-2016-8860 on Ubuntu 18.04 LTS (bionic) - medium.', 'tor', '0.2.8.9-1ubuntu1'],
      ['CVE-2016-8860 on Ubuntu 18.04 LTS (bionic) - medium.', 'tor-geoipdb', '0.2.8.9-1ubuntu1'],
    ]);
    expect(rs[0]).toMatchObject({
      updater: 'ubuntu/updater/bionic', issued: '', severity: '', normalizedSeverity: 'Medium', repo: null, range: null, archOperation: 'invalid',
      links: 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2016-8703 http://people.canonical.com/~ubuntu-security/cve/2016/CVE-2016-8703.html https://blogs.gentoo.org/ago/2016/08/08/potrace-multiplesix-heap-based-buffer-overflow-in-bm_readbody_bmp-bitmap_io-c/',
      package: { name: 'libpotrace0', version: '', module: '', arch: '', kind: 'binary' },
      dist: { versionCodeName: 'bionic', version: '18.04 (Bionic)' },
    });
    expect(rs[0].description).toMatch(/^Heap-based buffer overflow in the bm_readbody_bmp function/);
    // Four distinct rows (hash over name, description, links, package, dist, fixed-in version).
    expect(new Set(rs.map(vulnHash)).size).toBe(4);
  });

  it('jammy (OCI variant, bzip2): textfilecontent54 tests are not dpkginfo tests, so no records', async () => {
    expect(await records(path.join(FEEDS, 'ubuntu-oval/oval/oci.com.ubuntu.jammy.cve.oval.xml.bz2'))).toEqual([]);
  });

  it('names the file and position of broken XML, and a truncated bzip2 stream', async () => {
    await expect(records(path.join(LOCAL, 'broken.xml'), 'ubuntu.oval/broken.xml')).rejects.toMatchObject({
      code: 'FEED_INVALID', exitCode: 3, place: { feed: 'ubuntu', file: 'ubuntu.oval/broken.xml', record: expect.stringMatching(/line \d+, column \d+/) },
    });
    await expect(records(path.join(LOCAL, 'truncated.xml.bz2'), 'ubuntu.oval/truncated.xml.bz2')).rejects.toMatchObject({
      code: 'FEED_INVALID', place: { file: 'ubuntu.oval/truncated.xml.bz2' },
    });
  });
});
