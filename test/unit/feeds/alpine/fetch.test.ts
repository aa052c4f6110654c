import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { fetchAlpine } from '../../../../src/feeds/alpine/fetch.js';
import { alpine } from '../../../../src/feeds/alpine/index.js';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { FIXTURES, collect, fetchContext, parseContext, staticServer } from './helpers.js';

const retry = { attempts: 2, baseDelayMs: 1 };
const SECDB = '/alpine-secdb/';

let tmp: string;
let mirror: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'alpine-fetch-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  mirror = await mkdtemp(path.join(tmp, 'mirror-'));
});

describe('feeds/alpine fetch: release discovery as claircore does it', () => {
  it("finds exactly claircore's TestFactory set in claircore's fetch test tree", async () => {
    const root = path.join(tmp, 'claircore-fetch');
    for (const d of ['v3.3', 'v3.4', 'v3.5', 'v3.6', 'v3.7', 'v3.8', 'v3.9', 'v3.10', 'v4.0']) await mkdir(path.join(root, d), { recursive: true });
    await copyFile(path.join(FIXTURES, 'alpine', 'claircore-last-update'), path.join(root, 'last-update'));
    await copyFile(path.join(FIXTURES, 'alpine', 'claircore-v3.10-community.json'), path.join(root, 'v3.10', 'community.json'));
    // claircore's TestFactory serves alpine/testdata/fetch with Go's http.FileServer: directory URLs answer 200.
    const srv = await staticServer(root, 'listing');
    try {
      const summary = await fetchAlpine(fetchContext(mirror, { alpine: srv.url + '/' }), { retry });
      // v3.3…v3.10, (v3.11 404 ends major 3), v4.0, (v4.1 404), (v5.0 404 ends), then edge.
      expect(summary.releases).toEqual(['v3.3', 'v3.4', 'v3.5', 'v3.6', 'v3.7', 'v3.8', 'v3.9', 'v3.10', 'v4.0', 'edge']);
      expect(srv.log.filter((l) => l.startsWith('HEAD'))).toEqual(
        ['v3.3', 'v3.4', 'v3.5', 'v3.6', 'v3.7', 'v3.8', 'v3.9', 'v3.10', 'v3.11', 'v4.0', 'v4.1', 'v5.0']
          .map((r) => `HEAD /${r}/ ${['v3.11', 'v4.1', 'v5.0'].includes(r) ? 404 : 200}`),
      );
      const out = await collect(alpine, parseContext(mirror));
      // claircore alpine/fetcher_test.go TestFactory: want []string{"alpine-community-v3.10-updater"}
      expect(out.map((o) => o.updater)).toEqual(['alpine-community-v3.10-updater']);
      expect(out[0].records).toHaveLength(9);
      const rec = (await readFetchRecord(mirror, 'alpine'))!;
      expect(rec.files.map((f) => f.path)).toEqual(['last-update', 'v3.10/community.json']);
      expect(rec.absent).toHaveLength(19);
    } finally {
      await srv.close();
    }
  });
});

describe('feeds/alpine fetch against the shared fixture mirror', () => {
  let server: FeedServer;
  beforeEach(async () => {
    server = await startFeedServer();
  });
  afterEach(async () => {
    await server.close();
  });
  const ctx = (options: Record<string, string> = {}) => fetchContext(mirror, { alpine: server.url + SECDB }, options);

  it('without directory listings discovery finds no stable release, as claircore (oracle) does: edge only', async () => {
    const summary = await fetchAlpine(ctx(), { retry });
    expect(summary.releases).toEqual(['edge']);
    // This server answers 405 for a directory (the oracle's answers 404): claircore skips an
    // unexpected status and probes on, and v3.4/ is 404 with nothing found, which ends discovery.
    // Discovery is sequential; the data files are then downloaded concurrently (any order).
    const log = server.log.map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(log.slice(0, 3)).toEqual(['GET /alpine-secdb/last-update 200', 'HEAD /alpine-secdb/v3.3/ 405', 'HEAD /alpine-secdb/v3.4/ 404']);
    expect(log.slice(3).sort()).toEqual(['GET /alpine-secdb/edge/community.json 200', 'GET /alpine-secdb/edge/main.json 200']);
    expect((await collect(alpine, parseContext(mirror))).map((o) => o.updater)).toEqual(['alpine-main-edge-updater', 'alpine-community-edge-updater']);
  });

  it('--option alpine-releases replaces discovery; missing files are absent; a re-fetch is conditional (all 304)', async () => {
    const options = { 'alpine-releases': 'v3.21,v3.20,v3.19,v3.18,v3.4,v3.3,edge' };
    const first = await fetchAlpine(ctx(options), { retry });
    expect(first).toMatchObject({ releases: ['v3.3', 'v3.4', 'v3.18', 'v3.19', 'v3.20', 'v3.21', 'edge'], files: 12, absent: 2 });
    expect(server.log.some((r) => r.method === 'HEAD')).toBe(false);
    const rec = (await readFetchRecord(mirror, 'alpine'))!;
    expect(rec.absent?.map((a) => a.path)).toEqual(['v3.4/community.json', 'v3.4/main.json']);
    const sha = rec.files.find((f) => f.path === 'v3.20/main.json')!.sha256;
    expect(sha).toBe('044b58fd01042e41f1fa9a56b622e0dde86b080d4399415e01e806080419586c'); // PROVENANCE.md

    server.log.length = 0;
    const second = await fetchAlpine(ctx(options), { retry });
    expect(second.outcomes).toEqual({ downloaded: 0, 'not-modified': 13, resumed: 0 });
    expect(server.log.filter((r) => r.status === 200)).toEqual([]);

    const out = await collect(alpine, parseContext(mirror));
    expect(out.map((o) => o.updater)).toEqual([
      'alpine-main-v3.3-updater', 'alpine-community-v3.3-updater', 'alpine-main-v3.18-updater', 'alpine-community-v3.18-updater',
      'alpine-main-v3.19-updater', 'alpine-community-v3.19-updater', 'alpine-main-v3.20-updater', 'alpine-community-v3.20-updater',
      'alpine-main-v3.21-updater', 'alpine-community-v3.21-updater', 'alpine-main-edge-updater', 'alpine-community-edge-updater',
    ]);
  });

  it('a narrower release set prunes the files it no longer lists', async () => {
    await fetchAlpine(ctx({ 'alpine-releases': 'v3.20,edge' }), { retry });
    const pruned = await fetchAlpine(ctx({ 'alpine-releases': 'edge' }), { retry });
    expect(pruned.pruned).toBe(2);
    await expect(stat(path.join(mirror, 'alpine', 'v3.20', 'main.json'))).rejects.toThrow();
    expect((await collect(alpine, parseContext(mirror))).map((o) => o.updater)).toEqual(['alpine-main-edge-updater', 'alpine-community-edge-updater']);
  });

  it('fails on a server error during discovery and on a bad option, writing no record', async () => {
    server.fault('/alpine-secdb/v3.3/', { status: 503 }, { status: 503 });
    await expect(fetchAlpine(ctx(), { retry })).rejects.toMatchObject({ code: 'FEED_INVALID', message: expect.stringContaining('answered HTTP 503') });
    await expect(fetchAlpine(ctx({ 'alpine-releases': 'latest' }), { retry })).rejects.toBeInstanceOf(ConfigError);
    expect(await readFetchRecord(mirror, 'alpine')).toBeNull();
  });

  it('fails when last-update is missing (claircore: unexpected status requesting last-update)', async () => {
    server.fault('/alpine-secdb/last-update', { status: 404 });
    await expect(fetchAlpine(ctx(), { retry })).rejects.toMatchObject({ status: 404 });
  });
});
