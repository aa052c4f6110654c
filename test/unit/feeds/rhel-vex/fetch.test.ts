import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { fetchRhelVex } from '../../../../src/feeds/rhel-vex/fetch.js';
import { vulnHash } from '../../../../src/model/hash.js';
import { DEFAULT_FEEDS_DIR, startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { fetchContext, parseContext, snapshot } from './helpers.js';

const VEX = '/rhel-vex/csaf/v2/vex/';
const ARCHIVE = `${VEX}csaf_vex_2023-11-16.tar.zst`;
/** sha256 of the fixture archive, from shared/fixtures/feeds/PROVENANCE.md. */
const ARCHIVE_SHA256 = 'c5fd140f6d9b0dba6e7cf05f42881be133b694fba666b77ec227c402f3d42107';
/** The fixture files' mtimes are the day they were installed; upstream dates the archive by its name. */
const lastModified = { [ARCHIVE]: new Date('2023-11-16T00:00:00Z') };
const retry = { attempts: 3, baseDelayMs: 1 };

let server: FeedServer;
let tmp: string;
let mirror: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'vex-fetch-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  server = await startFeedServer({ lastModified });
  mirror = await mkdtemp(path.join(tmp, 'mirror-'));
});
afterEach(async () => {
  await server.close();
});

const ctx = () => fetchContext(mirror, { 'rhel-vex': server.url + VEX });

describe('feeds/rhel-vex fetch against the local feed server', () => {
  it('downloads the feed, then re-fetches with conditional requests only (all 304)', async () => {
    const first = await fetchRhelVex(ctx(), { retry });
    // archive_latest.txt, the archive, changes.csv, deletions.csv, 22 documents (2002 is before 2015)
    expect(first).toMatchObject({ outcomes: { downloaded: 26, 'not-modified': 0, resumed: 0 }, documents: 22, retries: 0 });
    const rec = (await readFetchRecord(mirror, 'rhel-vex'))!;
    expect(rec.files).toHaveLength(26);
    const archive = rec.files.find((f) => f.path === 'csaf_vex_2023-11-16.tar.zst')!;
    expect(archive).toMatchObject({ part: 'rhel-vex', sha256: ARCHIVE_SHA256, size: 61814, lastModified: 'Thu, 16 Nov 2023 00:00:00 GMT' });
    expect(archive.etag).not.toBe('');
    expect(rec.files.some((f) => f.path === '2002/cve-2002-0803.json')).toBe(false);

    server.log.length = 0;
    const second = await fetchRhelVex(ctx(), { retry });
    expect(second.outcomes).toEqual({ downloaded: 0, 'not-modified': 26, resumed: 0 });
    expect(server.log).toHaveLength(26);
    expect(server.log.every((r) => r.conditional && r.status === 304)).toBe(true);
    expect((await readFetchRecord(mirror, 'rhel-vex'))!.files).toEqual(rec.files);
  });

  it('parses the fetched mirror into the same rows as the fixture directory', async () => {
    await fetchRhelVex(ctx(), { retry });
    const fetched = await snapshot(parseContext(mirror));
    const direct = await snapshot(parseContext(tmp, path.join(DEFAULT_FEEDS_DIR, 'rhel-vex/csaf/v2/vex')));
    expect(fetched.map(vulnHash).sort()).toEqual(direct.map(vulnHash).sort());
  });

  it('resumes an interrupted archive download with Range', async () => {
    server.fault(ARCHIVE, { truncateAfter: 20_000 });
    const s = await fetchRhelVex(ctx(), { retry });
    expect(s.outcomes.resumed).toBe(1);
    expect(s.retries).toBe(1);
    const gets = server.log.filter((r) => r.path === ARCHIVE);
    expect(gets.map((r) => [r.status, r.range])).toEqual([[200, undefined], [206, 'bytes=20000-']]);
    const rec = (await readFetchRecord(mirror, 'rhel-vex'))!;
    expect(rec.files.find((f) => f.path === 'csaf_vex_2023-11-16.tar.zst')!.sha256).toBe(ARCHIVE_SHA256);
    await expect(stat(path.join(mirror, 'rhel-vex/csaf_vex_2023-11-16.tar.zst.part'))).rejects.toThrow();
  });

  it('retries 5xx and connection resets with backoff', async () => {
    server.fault(`${VEX}changes.csv`, { status: 503 }, { reset: true });
    const s = await fetchRhelVex(ctx(), { retry });
    expect(s.retries).toBe(2);
    expect(server.log.filter((r) => r.path === `${VEX}changes.csv`).map((r) => r.status)).toEqual([503, 0, 200]);
  });

  it('gives up after the last attempt with a FeedError, writing no record', async () => {
    server.fault(`${VEX}deletions.csv`, { status: 500 }, { status: 502 }, { status: 503 });
    const err = await fetchRhelVex(ctx(), { retry }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect((err as FeedError).message).toMatch(/deletions\.csv answered HTTP 503/);
    expect(await readFetchRecord(mirror, 'rhel-vex')).toBeNull();
  });

  it('fails on a 404 document listed in changes.csv (claircore aborts too)', async () => {
    server.fault(`${VEX}2024/cve-2024-34500.json`, { status: 404 });
    await expect(fetchRhelVex(ctx(), { retry })).rejects.toMatchObject({ code: 'FEED_INVALID', status: 404 });
  });

  it('removes files the new record no longer lists', async () => {
    await fetchRhelVex(ctx(), { retry });
    await server.close();
    // A newer archive time: the loose documents are no longer part of the snapshot.
    server = await startFeedServer({ lastModified: { [ARCHIVE]: new Date('2026-01-01T00:00:00Z') } });
    const s = await fetchRhelVex(ctx(), { retry });
    expect(s.documents).toBe(0);
    expect(s.pruned).toBe(22);
    await expect(readFile(path.join(mirror, 'rhel-vex/2024/cve-2024-34500.json'))).rejects.toThrow();
  });
});
