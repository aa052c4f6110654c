import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { rpmFileRecords } from '../../../../src/feeds/oval/index.js';
import { suse } from '../../../../src/feeds/suse/index.js';
import { anchorHrefs } from '../../../../src/feeds/suse/listing.js';
import { releaseUpdater } from '../../../../src/feeds/suse/parse.js';
import { discoverReleases, leapDist, normalizeSeverity, selectReleases, slesDist, updaterName } from '../../../../src/feeds/suse/upstream.js';
import type { VulnerabilityOutput } from '../../../../src/feeds/types.js';
import { silentLogger } from '../../../../src/log.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';
import { startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { byCodeUnit, ourLines, readGolden } from '../oval/claircore-golden.js';
import { startDirectoryProxy } from './directory-proxy.js';

const FEEDS = path.resolve(import.meta.dirname, '../../../../../shared/fixtures/feeds');
const LOCAL = path.resolve(import.meta.dirname, '../../../fixtures/suse');
const OVAL_DIR = path.join(FEEDS, 'suse-oval/pub/projects/security/oval');
const BASE = 'https://ftp.suse.com/pub/projects/security/oval/';

async function records(file: string, ver = '15', display = path.basename(file)): Promise<Vulnerability[]> {
  const dist = slesDist(ver);
  const u = releaseUpdater({ updater: updaterName(dist), dist, href: '', url: '', relPath: path.basename(file) });
  const out: Vulnerability[] = [];
  for await (const v of rpmFileRecords({ path: file, display, feed: 'suse', compression: u.compression }, (d) => u.protos(d))) out.push(v);
  return out;
}

describe('suse factory (claircore suse/factory.go)', () => {
  it('the real directory page links one updater: SLES 15 (SLES 10 and Leap 15.2 are not picked)', () => {
    const rs = discoverReleases(readFileSync(path.join(OVAL_DIR, 'index.html'), 'utf8'), BASE, 'suse/index.html');
    expect(rs).toEqual([{
      updater: 'suse-updater-suse.linux.enterprise.server.15', dist: slesDist('15'), href: 'suse.linux.enterprise.server.15.xml.gz',
      url: `${BASE}suse.linux.enterprise.server.15.xml.gz`, relPath: 'suse.linux.enterprise.server.15.xml.gz',
    }]);
  });

  it('applies the unanchored expressions, Leap >= 15.5 and the Dists of the spec (§10)', () => {
    const page = (...hrefs: string[]) => hrefs.map((h) => `<A HREF="${h}">x</A>`).join('\n');
    const names = (html: string) => discoverReleases(html, BASE, 'p').map((r) => r.updater);
    expect(names(page('suse.linux.enterprise.server.12.xml.gz', 'suse.linux.enterprise.server.10.xml.gz', 'suse.linux.enterprise.server.20.xml.gz',
      'opensuse.leap.15.6.xml.gz', 'opensuse.leap.15.4.xml.gz', 'opensuse.leap.16.0.xml.gz', 'opensuse.leap.micro.5.5.xml.gz', 'suse.linux.enterprise.server.15.xml')))
      .toEqual(['suse-updater-suse.linux.enterprise.server.12', 'suse-updater-opensuse.leap.15.6', 'suse-updater-opensuse.leap.16.0']);
    expect(leapDist('15.6')).toEqual({ did: 'opensuse-leap', name: 'openSUSE Leap', version: '15.6', versionCodeName: '', versionId: '15.6', arch: '', cpe: '', prettyName: 'openSUSE Leap 15.6' });
    expect(slesDist('15')).toEqual({ did: 'sles', name: 'SLES', version: '15', versionCodeName: '', versionId: '15', arch: '', cpe: '', prettyName: 'SUSE Linux Enterprise Server 15' });
    // Unanchored: a signature next to the file names the same updater, which fails the whole set.
    expect(() => names(page('suse.linux.enterprise.server.15.xml.gz', 'suse.linux.enterprise.server.15.xml.gz.asc'))).toThrow(/linked more than once/);
    // `.` is any character; "15-6" parses as 15.0.0-6 < 15.5.
    expect(names(page('opensuse.leap.15-6.xml.gz', 'suse-linux-enterprise-server-11-xml-gz'))).toEqual(['suse-updater-suse.linux.enterprise.server.11']);
    expect(['None', 'Low', 'Moderate', 'Important', 'Critical', 'moderate'].map(normalizeSeverity)).toEqual(['Unknown', 'Low', 'Medium', 'High', 'Critical', 'Unknown']);
  });

  it('reads hrefs as an HTML5 tokenizer does', () => {
    expect(anchorHrefs(`<!-- <a href="c1"> --><a href='q'><a\nhref=u>x</a><A Href="e&amp;x&#x41;"/><abbr href="no"><script><a href="s"></script><a href="after"><p href="no">`))
      .toEqual(['q', 'u', 'e&xA', 'after']);
  });

  it('suse-releases selects discovered updaters; an undiscovered one is an error', () => {
    const all = discoverReleases('<a href="suse.linux.enterprise.server.15.xml.gz"></a><a href="opensuse.leap.15.6.xml.gz"></a>', BASE, 'p');
    expect(selectReleases(all, { 'suse-releases': 'opensuse.leap.15.6' }, 'p').map((r) => r.updater)).toEqual(['suse-updater-opensuse.leap.15.6']);
    expect(() => selectReleases(all, { 'suse-releases': 'suse-updater-suse.linux.enterprise.server.12' }, 'p')).toThrow(/not linked/);
  });
});

describe('suse OVAL → records (claircore suse Parse + ovalutil RPMDefsToVulns)', () => {
  it('a real SUSE file (excerpt of claircore suse/testdata) gives the records claircore gives; no Issued', async () => {
    const rs = await records(path.join(LOCAL, 'sled10-excerpt.xml.gz'), '10');
    expect(ourLines(rs)).toEqual(readGolden(path.join(LOCAL, 'claircore-sled10-excerpt.tsv.gz')).lines.sort(byCodeUnit));
    expect(rs).toHaveLength(897);
    expect(rs[0]).toMatchObject({ updater: 'suse-updater-suse.linux.enterprise.server.10', name: 'CVE-2002-2443', issued: '', severity: '', normalizedSeverity: 'Unknown' });
  });

  it('the shared SLES 15 excerpt keeps its states under <state>, which goval-parser ignores: no records', async () => {
    expect(await records(path.join(OVAL_DIR, 'suse.linux.enterprise.server.15.xml.gz'))).toEqual([]);
  });

  it('refuses a truncated gzip stream, an unknown operation word, and a file that is not gzip', async () => {
    await expect(records(path.join(LOCAL, 'truncated.xml.gz'), '15', 'suse/truncated.xml.gz')).rejects.toMatchObject({
      code: 'FEED_INVALID', exitCode: 3, place: { feed: 'suse', file: 'suse/truncated.xml.gz' },
    });
    await expect(records(path.join(LOCAL, 'unknown-operation.xml.gz'), '15', 'suse/unknown-operation.xml.gz')).rejects.toThrow(/unknown operation "6"/);
    await expect(records(path.join(OVAL_DIR, 'suse.linux.enterprise.server.15.xml'), '15', 'suse/x.xml.gz')).rejects.toThrow(/corrupt or truncated gzip stream/);
  });
});

describe('suse fetch → parse', () => {
  let files: FeedServer;
  let proxy: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    files = await startFeedServer({ root: FEEDS });
    proxy = await startDirectoryProxy(files.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await files?.close();
  });

  it('GETs the directory page, then each discovered updater\'s file; a missing page fails the fetch', async () => {
    const mirror = await mkdtemp(path.join(os.tmpdir(), 'suse-fetch-'));
    const ctx = { mirror, partDir: (p: string) => path.join(mirror, p), log: silentLogger, options: {} };
    const baseUrls = { suse: `${proxy.url}/suse-oval/pub/projects/security/oval` };
    await suse.fetch({ ...ctx, baseUrls });
    const dir = '/suse-oval/pub/projects/security/oval/';
    expect(files.log.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', `${dir}index.html`, 200], ['GET', `${dir}suse.linux.enterprise.server.15.xml.gz`, 200],
    ]);
    const rec = await readFetchRecord(mirror, 'suse');
    expect(rec?.files.map((f) => [f.path, f.url])).toEqual([
      ['index.html', `${proxy.url}${dir}`], ['suse.linux.enterprise.server.15.xml.gz', `${proxy.url}${dir}suse.linux.enterprise.server.15.xml.gz`],
    ]);
    const outputs: string[] = [];
    for await (const o of suse.parse(ctx)) {
      outputs.push(o.type === 'vulnerability' ? o.updater : o.type);
      for await (const r of (o as VulnerabilityOutput).records) void r;
    }
    expect(outputs).toEqual(['suse-updater-suse.linux.enterprise.server.15']);

    // The mirror's file is checked as gzip at build time.
    await writeFile(path.join(mirror, 'suse', 'suse.linux.enterprise.server.15.xml.gz'), readFileSync(path.join(OVAL_DIR, 'suse.linux.enterprise.server.15.xml')));
    await expect((async () => {
      for await (const o of suse.parse(ctx)) for await (const r of (o as VulnerabilityOutput).records) void r;
    })()).rejects.toMatchObject({ code: 'FEED_INVALID', place: { feed: 'suse', file: 'suse/suse.linux.enterprise.server.15.xml.gz' } });

    await expect(suse.fetch({ ...ctx, baseUrls: { suse: `${proxy.url}/nowhere/` } })).rejects.toMatchObject({ code: 'FEED_INVALID', status: 404 });
  });
});
