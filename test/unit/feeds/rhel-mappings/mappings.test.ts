import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { rhelMappings } from '../../../../src/feeds/rhel-mappings/index.js';
import type { FeedOutput, FetchContext, ParseContext } from '../../../../src/feeds/types.js';
import { silentLogger } from '../../../../src/log.js';
import { DEFAULT_FEEDS_DIR, startFeedServer } from '../../../helpers/feed-server.js';

const METRICS = path.join(DEFAULT_FEEDS_DIR, 'rhel-metrics/data/metrics');
/** sha256 of repository-to-cpe.json, from shared/fixtures/feeds/PROVENANCE.md. */
const REPO2CPE_SHA256 = 'd8715be2a88b991d9b727b10a71c900eecb67ffd663ba6ee42edbe2d59fce92a';

const ctx = (mirror: string, baseUrls: Record<string, string> = {}): FetchContext & ParseContext => ({
  mirror, partDir: (p) => path.join(mirror, p), log: silentLogger, options: {}, baseUrls,
});

async function outputs(c: ParseContext): Promise<FeedOutput[]> {
  const out = [];
  for await (const o of rhelMappings.parse(c)) out.push(o);
  return out;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'mappings-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('feeds/rhel-mappings', () => {
  it('fetches repository-to-cpe.json, records container-name-repos-map.json as absent (404), and parses', async () => {
    const server = await startFeedServer();
    const mirror = path.join(tmp, 'fetched');
    try {
      await rhelMappings.fetch(ctx(mirror, { 'rhel-mappings': `${server.url}/rhel-metrics/data/metrics/` }));
    } finally {
      await server.close();
    }
    const rec = (await readFetchRecord(mirror, 'rhel-mappings'))!;
    expect(rec.files).toHaveLength(1);
    expect(rec.files[0]).toMatchObject({ path: 'repository-to-cpe.json', sha256: REPO2CPE_SHA256 });
    expect(rec.absent).toEqual([expect.objectContaining({ path: 'container-name-repos-map.json', status: 404 })]);
    expect(await outputs(ctx(mirror))).toEqual([{
      type: 'mapping', name: 'repository-to-cpe.json',
      path: path.join(mirror, 'rhel-mappings/repository-to-cpe.json'),
      upstreamDate: '2025-02-12T00:48:44.112Z', // the document's last_updated
    }]);
  });

  it('a mapping missing from the mirror without an absent record is a FeedError', async () => {
    const mirror = path.join(tmp, 'copied');
    await mkdir(path.join(mirror, 'rhel-mappings'), { recursive: true });
    await cp(path.join(METRICS, 'repository-to-cpe.json'), path.join(mirror, 'rhel-mappings/repository-to-cpe.json'));
    const err = await outputs(ctx(mirror)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect((err as FeedError).file).toBe('rhel-mappings/container-name-repos-map.json');
  });

  it('validates the shape of both documents', async () => {
    const mirror = path.join(tmp, 'bad');
    const dir = path.join(mirror, 'rhel-mappings');
    await mkdir(dir, { recursive: true });
    const write = (name: string, doc: unknown) => writeFile(path.join(dir, name), typeof doc === 'string' ? doc : JSON.stringify(doc));
    const good = { data: { 'quay-3-for-rhel-8-x86_64-rpms': ['quay/quay-rhel8'] } };
    await write('container-name-repos-map.json', good);
    const cases: [unknown, RegExp, string?][] = [
      ['{"data": {', /malformed JSON/],
      [{ last_updated: 'x' }, /\/data: missing or not an object/, '/data'],
      [{ data: { repo: { cpes: 'cpe:/o:redhat:enterprise_linux:9' } } }, /expected an array of strings/, '/data/repo/cpes'],
      [{ data: { repo: { cpes: [1] } } }, /expected a string/, '/data/repo/cpes/0'],
    ];
    for (const [doc, pattern, record] of cases) {
      await write('repository-to-cpe.json', doc);
      const err = await outputs(ctx(mirror)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FeedError);
      expect((err as FeedError).message).toMatch(pattern);
      expect((err as FeedError).file).toBe('rhel-mappings/repository-to-cpe.json');
      if (record) expect((err as FeedError).place.record).toBe(record);
    }
    await write('repository-to-cpe.json', { data: { repo: { cpes: ['cpe:/o:redhat:enterprise_linux:9::baseos'] } } });
    await write('container-name-repos-map.json', { data: { x: 'quay/quay-rhel8' } });
    await expect(outputs(ctx(mirror))).rejects.toThrow(/container-name-repos-map\.json.*expected an array of strings/);
    await write('container-name-repos-map.json', good);
    expect((await outputs(ctx(mirror))).map((o) => (o as { upstreamDate: string }).upstreamDate)).toEqual(['', '']);
  });
});
