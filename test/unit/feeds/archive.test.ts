import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedError } from '../../../src/errors.js';
import { detectCompression, readArchive } from '../../../src/feeds/archive.js';
import { DEFAULT_FEEDS_DIR } from '../../helpers/feed-server.js';

const ARCHIVE = path.join(DEFAULT_FEEDS_DIR, 'rhel-vex/csaf/v2/vex/csaf_vex_2023-11-16.tar.zst');
const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/rhel-vex');

async function collect(file: string, opts = {}) {
  const out: { name: string; size: number; sha: string }[] = [];
  for await (const e of readArchive(file, opts)) out.push({ name: e.name, size: e.body.length, sha: createHash('sha256').update(e.body).digest('hex') });
  return out;
}

async function tarOf(entries: { name: string; type?: 'file' | 'symlink' | 'link'; linkname?: string; body?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'archive-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('feeds/archive', () => {
  it('streams the fixture .tar.zst: 14 regular files, directories skipped', async () => {
    expect(await detectCompression(ARCHIVE)).toBe('zstd');
    const entries = await collect(ARCHIVE);
    expect(entries).toHaveLength(14);
    // sizes as `tar tv` lists them (shared/fixtures PROVENANCE members)
    expect(entries[0]).toMatchObject({ name: '2023/cve-2023-0044.json', size: 19203 });
    expect(entries.find((e) => e.name === '2023/cve-2023-2454.json')?.size).toBe(1594287);
  });

  it('reads gzip and uncompressed tar by magic bytes', async () => {
    const raw = await tarOf([{ name: '2023/a.json', body: '{}' }, { name: '2023/b.json', body: '[]' }]);
    await writeFile(path.join(tmp, 'x.tar'), raw);
    await writeFile(path.join(tmp, 'x.tar.gz'), gzipSync(raw));
    expect(await detectCompression(path.join(tmp, 'x.tar.gz'))).toBe('gzip');
    expect(await detectCompression(path.join(tmp, 'x.tar'))).toBe('none');
    for (const f of ['x.tar', 'x.tar.gz']) expect((await collect(path.join(tmp, f))).map((e) => e.name)).toEqual(['2023/a.json', '2023/b.json']);
  });

  it('stops cleanly when the consumer stops early', async () => {
    for await (const e of readArchive(ARCHIVE)) {
      expect(e.name).toBe('2023/cve-2023-0044.json');
      break;
    }
  });

  const rejects = async (file: string, opts: object, pattern: RegExp) => {
    const err = await collect(file, { displayName: path.basename(file), ...opts }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    expect((err as FeedError).exitCode).toBe(3);
    expect((err as FeedError).file).toBe(path.basename(file));
    expect((err as FeedError).message).toMatch(pattern);
    return err as FeedError;
  };

  it('rejects a truncated archive', async () => {
    await rejects(path.join(FIXTURES, 'truncated.tar.zst'), {}, /truncated or corrupt archive/);
  });

  it('rejects a tar entry ../x', async () => {
    const err = await rejects(path.join(FIXTURES, 'dotdot.tar.zst'), {}, /escapes the archive/);
    expect(err.place.record).toBe('entry ../x.json');
  });

  it('rejects absolute paths and escaping links', async () => {
    const cases: [string, Parameters<typeof tarOf>[0]][] = [
      ['abs.tar', [{ name: '/etc/passwd', body: 'x' }]],
      ['symlink.tar', [{ name: '2023/link', type: 'symlink', linkname: '../../etc/passwd' }]],
      ['hardlink.tar', [{ name: '2023/link', type: 'link', linkname: '../outside' }]],
    ];
    for (const [name, entries] of cases) {
      await writeFile(path.join(tmp, name), await tarOf(entries));
      await rejects(path.join(tmp, name), {}, /absolute or escapes|escapes the archive/);
    }
  });

  it('skips links that stay inside the archive', async () => {
    await writeFile(path.join(tmp, 'inner.tar'), await tarOf([{ name: '2023/a.json', body: '{}' }, { name: '2023/b.json', type: 'symlink', linkname: 'a.json' }]));
    expect((await collect(path.join(tmp, 'inner.tar'))).map((e) => e.name)).toEqual(['2023/a.json']);
  });

  it('rejects a decompression bomb (9751 bytes → 300 MiB)', async () => {
    await rejects(path.join(FIXTURES, 'bomb.tar.zst'), {}, /decompression bomb|exceeds the limit/);
  });

  it('refuses zstd windows the decoder would misread (128 MiB)', async () => {
    await rejects(path.join(FIXTURES, 'window-128m.tar.zst'), {}, /zstd window of 134217728 bytes/);
  });

  it('rejects an entry over the entry limit, naming it', async () => {
    const err = await rejects(ARCHIVE, { maxEntryBytes: 1_000_000 }, /exceeds the limit of 1000000 bytes/);
    expect(err.place.record).toBe('entry 2023/cve-2023-2454.json');
  });

  it('rejects a stream over the total limit', async () => {
    await rejects(ARCHIVE, { maxTotalBytes: 1_000_000 }, /decompression bomb: uncompressed archive exceeds 1000000 bytes/);
  });
});
