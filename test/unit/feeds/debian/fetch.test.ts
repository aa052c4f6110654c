import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchDebian } from '../../../../src/feeds/debian/fetch.js';
import { debian } from '../../../../src/feeds/debian/index.js';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { FIXTURES, SHARED_FEEDS, collect, fetchContext, parseContext, staticServer } from '../alpine/helpers.js';

const retry = { attempts: 2, baseDelayMs: 1 };
let tmp: string;
let mirror: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'debian-fetch-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  mirror = await mkdtemp(path.join(tmp, 'mirror-'));
});

describe('feeds/debian fetch against the shared fixture mirror', () => {
  let server: FeedServer;
  beforeEach(async () => {
    server = await startFeedServer();
  });
  afterEach(async () => {
    await server.close();
  });
  const urls = () => ({ 'debian.tracker': `${server.url}/debian-security-tracker/`, 'debian.dists': `${server.url}/deb.debian.org/` });

  it('fails like claircore when the mirror has no dists/ listing (oracle: unexpected status fetching …/dists/: 404 Not Found)', async () => {
    // The oracle's mirror server: a directory URL serves DIR/index.html, which the fixtures lack.
    const oracleLike = await staticServer(SHARED_FEEDS, 'index');
    try {
      const ctx = fetchContext(mirror, { 'debian.tracker': `${oracleLike.url}/debian-security-tracker/`, 'debian.dists': `${oracleLike.url}/deb.debian.org/` });
      await expect(fetchDebian(ctx, { retry })).rejects.toMatchObject({ status: 404, place: { file: 'debian/dists/index.html' } });
      expect(oracleLike.log).toEqual(['GET /deb.debian.org/debian/dists/ 404']);
      expect(await readFetchRecord(mirror, 'debian')).toBeNull();
    } finally {
      await oracleLike.close();
    }
  });

  it('--option debian-releases replaces the listing (sid is never registered, so not fetched); re-fetch is all 304', async () => {
    const options = { 'debian-releases': 'bookworm,sid,trixie' };
    const first = await fetchDebian(fetchContext(mirror, urls(), options), { retry });
    expect(first).toMatchObject({ codenames: ['bookworm', 'trixie'], absent: 1, outcomes: { downloaded: 2 } });
    const rec = (await readFetchRecord(mirror, 'debian'))!;
    expect(rec.files.map((f) => `${f.part} ${f.path} ${f.sha256}`)).toEqual([
      'debian.dists debian/dists/bookworm/Release 73435061ddc6da53285d7319ac4fde19bae5b93e5e23cf48e62c7de824aea70c',
      'debian.tracker tracker/data/json 3ae30b511a0e0738be7a139496b4cb8a7765a3bc80db7ee9a6dcb98d2c1354fe',
    ]);
    expect(rec.absent?.map((a) => a.path)).toEqual(['debian/dists/trixie/Release']);
    server.log.length = 0;
    const second = await fetchDebian(fetchContext(mirror, urls(), options), { retry });
    expect(second.outcomes).toEqual({ downloaded: 0, 'not-modified': 2, resumed: 0 });
    // The shared excerpt itself cannot be decoded by claircore's types: parse says where.
    await expect(collect(debian, parseContext(mirror))).rejects.toThrow(/record package chromium-browser, CVE-2022-0358/);
  });
});

describe('feeds/debian fetch with a dists/ listing', () => {
  it('fetches the Release of every listed codename claircore does not skip, then builds from them', async () => {
    const root = path.join(tmp, 'root');
    await cp(path.join(SHARED_FEEDS, 'deb.debian.org'), path.join(root, 'deb.debian.org'), { recursive: true });
    await cp(path.join(FIXTURES, 'debian', 'tracker-without-chromium-browser.json'), path.join(root, 'tracker', 'tracker', 'data', 'json'), { recursive: true });
    // The listing page (Apache index of deb.debian.org/debian/dists/ has this link shape).
    await writeFile(path.join(root, 'deb.debian.org', 'debian', 'dists', 'index.html'),
      ['<a href="?C=M;O=A">Last modified</a>', '<a href="/debian/">Parent Directory</a>', '<a href="bookworm/">bookworm/</a>',
        '<a href="bookworm-updates/">bookworm-updates/</a>', '<a href="sid/">sid/</a>', '<a href="stable/">stable/</a>', '<a href="trixie/">trixie/</a>'].join('\n'));
    const server = await staticServer(root, 'index');
    try {
      const urls = { 'debian.tracker': `${server.url}/tracker/`, 'debian.dists': `${server.url}/deb.debian.org` };
      const summary = await fetchDebian(fetchContext(mirror, urls), { retry });
      expect(summary).toMatchObject({ codenames: ['bookworm', 'trixie'], absent: 1 });
      // The listing comes first; the Release files and the tracker are fetched concurrently.
      expect(server.log[0]).toBe('GET /deb.debian.org/debian/dists/ 200');
      expect([...server.log].sort()).toEqual([
        'GET /deb.debian.org/debian/dists/ 200', 'GET /deb.debian.org/debian/dists/bookworm/Release 200', 'GET /deb.debian.org/debian/dists/trixie/Release 404',
        'GET /tracker/tracker/data/json 200',
      ].sort());
      const rec = (await readFetchRecord(mirror, 'debian'))!;
      expect(rec.files.map((f) => f.path)).toEqual(['debian/dists/bookworm/Release', 'debian/dists/index.html', 'tracker/data/json']);
      expect(rec.baseUrls).toEqual({ 'debian.tracker': `${server.url}/tracker/`, 'debian.dists': `${server.url}/deb.debian.org/` });
      const out = await collect(debian, parseContext(mirror));
      expect(out[0].records.map((r) => `${r.package?.name} ${r.name} ${r.dist?.version}`)).toEqual([
        'chromium CVE-2022-0456 12 (bookworm)', 'sope CVE-2025-53603 12 (bookworm)',
      ]);
    } finally {
      await server.close();
    }
  });
});
