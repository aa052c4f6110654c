import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { fileWatcher } from '../../src/bundle/verify.js';
import { pumpFile } from '../../src/load/file-pump.js';
import { CsvToCopyText } from '../../src/load/csv-to-copy-text.js';

async function tempFile(content: Buffer): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'pump-')), 'f.csv');
  await writeFile(file, content);
  return file;
}

/** A consumer that copies each chunk and takes its time before calling back (now, soon, later). */
function slowCopier(): { stream: Transform; seen: Buffer[] } {
  const seen: Buffer[] = [];
  let n = 0;
  const stream = new Transform({
    highWaterMark: 1,
    transform(chunk: Buffer, _enc, done) {
      const copy = Buffer.from(chunk);
      seen.push(copy);
      const wait = n++ % 3;
      if (wait === 0) done(null, copy);
      else if (wait === 1) setImmediate(() => done(null, copy));
      else setTimeout(() => done(null, copy), 0);
    },
  });
  return { stream, seen };
}

async function collect(stream: Transform): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(stream, new Writable({ write(c: Buffer, _e, done) { out.push(c); done(); } }));
  return Buffer.concat(out);
}

describe('pumpFile: a file read into a consumer through one buffer', () => {
  it.each([1, 7, 4096, 1 << 20])('hands over every byte in order, each chunk before the buffer is read into again (%i-byte buffer)', async (size) => {
    const content = randomBytes(6_000);
    const file = await tempFile(content);
    const { stream, seen } = slowCopier();
    const done = pumpFile(file, stream, size);
    expect(await collect(stream)).toEqual(content);
    await done;
    expect(seen.length).toBe(Math.ceil(content.length / size));
  });

  it('feeds a CSV conversion as a read stream would', async () => {
    const csv = Buffer.from('a,b\n' + '"x,1","multi\nline"\n,"q""uote"\n'.repeat(500));
    const file = await tempFile(csv);
    const converter = new CsvToCopyText('vulnerabilities/x.csv');
    const done = pumpFile(file, converter, 5);
    const out = (await collect(converter)).toString();
    await done;
    expect(out).toBe('x,1\tmulti\\nline\n\\N\tq"uote\n'.repeat(500));
  });

  it('shows the watcher every chunk, and its verdict at the end fails the consumer before it ends', async () => {
    const content = Buffer.from('hash\n"\\x01"\n');
    const file = await tempFile(content);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const good = slowCopier();
    const ok = pumpFile(file, good.stream, 3, fileWatcher({ path: 'keys/x.csv', sha256, size: content.length }));
    expect(await collect(good.stream)).toEqual(content);
    await ok;

    const bad = slowCopier();
    const failed = pumpFile(file, bad.stream, 3, fileWatcher({ path: 'keys/x.csv', sha256: '0'.repeat(64), size: content.length }));
    await expect(collect(bad.stream)).rejects.toThrow('keys/x.csv does not match its checksum in the manifest (modified or corrupted)');
    await failed;
  });

  it('fails the consumer with a file it cannot read, and never rejects itself', async () => {
    const { stream } = slowCopier();
    const missing = path.join(os.tmpdir(), 'no-such-dir-for-pump', 'f.csv');
    const done = pumpFile(missing, stream, 16);
    await expect(collect(stream)).rejects.toThrow(/ENOENT/);
    await expect(done).resolves.toBeUndefined();
  });

  it('stops reading once the consumer is destroyed', async () => {
    const content = randomBytes(100_000);
    const file = await tempFile(content);
    let chunks = 0;
    const stream = new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (++chunks === 3) {
          done(new Error('consumer failed'));
          return;
        }
        done(null, Buffer.from(chunk));
      },
    });
    const done = pumpFile(file, stream, 1000);
    await expect(collect(stream)).rejects.toThrow('consumer failed');
    await done;
    expect(chunks).toBe(3);
  });
});
