import { mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FeedError } from '../../../src/errors.js';
import { HttpStatusError, downloadFile, mapLimit } from '../../../src/feeds/http.js';
import { startFeedServer, type FeedServer } from '../../helpers/feed-server.js';

const CHANGES = '/rhel-vex/csaf/v2/vex/changes.csv';
/** sha256 of changes.csv, from shared/fixtures/feeds/PROVENANCE.md. */
const CHANGES_SHA256 = '6c6a9d11514792a11cda5f14700b997931e8bda10aac44d8d8c53d3d082eedba';
const retry = { attempts: 3, baseDelayMs: 1 };

let server: FeedServer;
let tmp: string;
let dir: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'http-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  server = await startFeedServer();
  dir = await mkdtemp(path.join(tmp, 'd-'));
});
afterEach(async () => {
  await server.close();
});

const get = (urlPath: string, extra = {}) =>
  downloadFile(server.url + urlPath, { part: 'rhel-vex', relPath: 'changes.csv', dir, retry, ...extra });

describe('feeds/http download', () => {
  it('downloads with sha256 and size, then answers 304 from the previous record', async () => {
    const first = await get(CHANGES);
    expect(first).toMatchObject({ outcome: 'downloaded', attempts: 1, record: { sha256: CHANGES_SHA256, size: 1254, path: 'changes.csv' } });
    const second = await get(CHANGES, { previous: first.record });
    expect(second.outcome).toBe('not-modified');
    expect(second.record.sha256).toBe(CHANGES_SHA256);
    expect(server.log.map((r) => [r.conditional, r.status])).toEqual([[false, 200], [true, 304]]);
  });

  it('does not send conditional headers when the mirror lost the file', async () => {
    const first = await get(CHANGES);
    await unlink(path.join(dir, 'changes.csv'));
    const again = await get(CHANGES, { previous: first.record });
    expect(again.outcome).toBe('downloaded');
    expect(server.log[1]).toMatchObject({ conditional: false, status: 200 });
  });

  it('reports a 404 as HttpStatusError without retrying', async () => {
    const err = await get('/nope.json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err).toBeInstanceOf(FeedError);
    expect((err as HttpStatusError).status).toBe(404);
    expect(server.log).toHaveLength(1);
  });

  it('refuses a body over maxBytes and leaves no partial file', async () => {
    await expect(get(CHANGES, { maxBytes: 100 })).rejects.toThrow(/body exceeds 100 bytes/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('restarts from scratch when the server ignores Range', async () => {
    await server.close();
    server = await startFeedServer({ ranges: false });
    server.fault(CHANGES, { truncateAfter: 500 });
    const r = await get(CHANGES);
    expect(r).toMatchObject({ outcome: 'downloaded', attempts: 2, record: { sha256: CHANGES_SHA256 } });
  });

  it('stops retrying when aborted', async () => {
    server.fault(CHANGES, { status: 503 }, { status: 503 }, { status: 503 });
    const ctl = new AbortController();
    const p = get(CHANGES, { signal: ctl.signal, retry: { attempts: 5, baseDelayMs: 10_000 } });
    setTimeout(() => ctl.abort(new Error('stop')), 50);
    await expect(p).rejects.toThrow();
    expect(server.log).toHaveLength(1);
  });
});

describe('feeds/http mapLimit', () => {
  it('keeps at most `limit` calls in flight and keeps order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([...Array(20).keys()], 3, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return n * 2;
    });
    expect(peak).toBe(3);
    expect(out).toEqual([...Array(20).keys()].map((n) => n * 2));
  });

  it('rejects with the first error and starts no new work', async () => {
    const started: number[] = [];
    const p = mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      if (n === 2) throw new Error('boom');
      await new Promise((r) => setTimeout(r, 5));
      return n;
    });
    await expect(p).rejects.toThrow('boom');
    expect(started.length).toBeLessThan(6);
  });
});
