import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import tar from 'tar-stream';
import { FeedError, describePlace, type ErrorPlace } from '../errors.js';

/**
 * Streams a (compressed) tar archive entry by entry without holding the archive in memory:
 * file → decompressor (zstd via fzstd's streaming `Decompress`, gzip via zlib, or none,
 * chosen by magic bytes) → tar-stream `extract`, with backpressure. Only regular files are
 * yielded, each as one Buffer. Hostile archives are refused with a FeedError naming the
 * archive and the entry: absolute or escaping paths (`../x`), links whose target escapes,
 * an entry above `maxEntryBytes`, more than `maxTotalBytes` uncompressed in all
 * (decompression bomb), and truncated or corrupt data.
 */
export interface ArchiveEntry {
  /** Entry path as stored in the archive ('/'-separated, relative). */
  name: string;
  body: Buffer;
}

export interface ArchiveOptions {
  /** Largest regular file accepted (default 256 MiB). */
  maxEntryBytes?: number;
  /** Largest total uncompressed stream accepted, tar headers included (default 64 GiB). */
  maxTotalBytes?: number;
  /** Name used in errors (default: the path as given). */
  displayName?: string;
  /** Feed named in errors. */
  feed?: string;
}

export type Compression = 'zstd' | 'gzip' | 'bzip2' | 'none';

export const DEFAULT_MAX_ENTRY_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_TOTAL_BYTES = 64 * 1024 * 1024 * 1024;
/**
 * fzstd decodes a pushed chunk in one synchronous call, so zstd input is pushed in slices
 * this big and one slice may not expand beyond ZSTD_MAX_SLICE_OUTPUT: a ratio of 32768,
 * which only an all-RLE stream reaches (4-byte RLE blocks of 128 KiB); compressed blocks
 * top out near 13000:1. This bounds the memory held between two writes to the tar parser.
 */
const ZSTD_SLICE = 4 * 1024;
const ZSTD_MAX_SLICE_OUTPUT = 128 * 1024 * 1024;

/**
 * Largest zstd window accepted. fzstd 0.1.1 decodes frames with a 128 MiB (wlog 27) or larger
 * window into wrong bytes without an error (checked against the zstd CLI), and its streaming
 * cost grows with the window, so larger windows are refused rather than misread.
 */
export const MAX_ZSTD_WINDOW = 64 * 1024 * 1024;

/** Compression by magic bytes, as claircore's zreader detects it. */
export async function detectCompression(file: string): Promise<Compression> {
  return (await inspect(file)).compression;
}

async function inspect(file: string): Promise<{ compression: Compression; window?: number }> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(18), 0, 18, 0);
    const b = buffer.subarray(0, bytesRead);
    if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return { compression: 'zstd', window: zstdWindow(b) };
    if (b.length >= 4 && (b.readUInt32LE(0) & 0xfffffff0) === 0x184d2a50) return { compression: 'zstd' }; // skippable frame first
    if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return { compression: 'gzip' };
    if (b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') return { compression: 'bzip2' };
    return { compression: 'none' };
  } finally {
    await fh.close();
  }
}

/** Window size of a zstd frame header (RFC 8878 §3.1.1.1), or undefined when cut short. */
function zstdWindow(b: Buffer): number | undefined {
  if (b.length < 6) return undefined;
  const fhd = b[4];
  if (((fhd >> 5) & 1) === 0) {
    const base = 2 ** (10 + (b[5] >> 3));
    return base + (base / 8) * (b[5] & 7);
  }
  const at = 5 + [0, 1, 2, 4][fhd & 3];
  const len = [1, 2, 4, 8][fhd >> 6];
  if (b.length < at + len) return undefined;
  let size = 0;
  for (let i = len - 1; i >= 0; i--) size = size * 256 + b[at + i];
  return len === 2 ? size + 256 : size;
}

/** Shared between the pump and the reader: error place and the uncompressed byte budget. */
class ArchiveState {
  entry = '';
  total = 0;
  constructor(
    readonly name: string,
    readonly feed: string | undefined,
    readonly maxTotal: number,
  ) {}

  place(entry = this.entry): ErrorPlace {
    return { feed: this.feed, file: this.name, record: entry ? `entry ${entry}` : undefined };
  }

  error(text: string, cause?: unknown, entry?: string): FeedError {
    const place = this.place(entry);
    return new FeedError(`${describePlace(place)}: ${text}`, { place, cause });
  }

  count(n: number): void {
    this.total += n;
    if (this.total > this.maxTotal) {
      throw this.error(`decompression bomb: uncompressed archive exceeds ${this.maxTotal} bytes`);
    }
  }
}

export async function* readArchive(file: string, opts: ArchiveOptions = {}): AsyncGenerator<ArchiveEntry> {
  const st = new ArchiveState(opts.displayName ?? file, opts.feed, opts.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES);
  const maxEntry = opts.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const { compression, window } = await inspect(file).catch((err) => {
    throw st.error(`cannot read archive: ${(err as Error).message}`, err);
  });
  if (compression === 'bzip2') throw st.error('bzip2-compressed archives are not supported');
  if (window !== undefined && window > MAX_ZSTD_WINDOW) {
    throw st.error(`zstd window of ${window} bytes is above the ${MAX_ZSTD_WINDOW} bytes the bundled decoder reads correctly`);
  }
  const extract = tar.extract();
  const pump = pumpArchive(file, compression, extract, st).catch((err) => extract.destroy(err));
  try {
    for await (const entry of extract) {
      const h = entry.header;
      st.entry = h.name;
      checkEntry(h, maxEntry, st);
      if (h.type !== 'file' && h.type !== 'contiguous-file') {
        await drainEntry(entry);
        continue;
      }
      yield { name: h.name, body: await readEntry(entry, maxEntry, st) };
    }
  } catch (err) {
    if (err instanceof FeedError) throw err;
    throw st.error(`truncated or corrupt archive: ${(err as Error).message}`, err);
  } finally {
    extract.destroy();
    await pump;
  }
}

function checkEntry(h: tar.Header, maxEntry: number, st: ArchiveState): void {
  if (escapes(h.name, '')) throw st.error('entry path is absolute or escapes the archive');
  if ((h.type === 'symlink' || h.type === 'link') && h.linkname) {
    const base = h.type === 'symlink' ? path.posix.dirname(h.name) : '';
    if (escapes(h.linkname, base)) throw st.error(`${h.type} target ${JSON.stringify(h.linkname)} escapes the archive`);
  }
  if ((h.size ?? 0) > maxEntry) throw st.error(`entry of ${h.size} bytes exceeds the limit of ${maxEntry} bytes`);
}

/** True when `p` (relative to `base`) is absolute or climbs out of the archive root. */
function escapes(p: string, base: string): boolean {
  if (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)) return true;
  const norm = path.posix.normalize(path.posix.join(base, p));
  return norm === '..' || norm.startsWith('../');
}

async function drainEntry(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const chunk of entry) void chunk;
}

async function readEntry(entry: AsyncIterable<unknown>, maxEntry: number, st: ArchiveState): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const data of entry) {
    const chunk = data as Buffer;
    size += chunk.length;
    if (size > maxEntry) throw st.error(`entry exceeds the limit of ${maxEntry} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

async function pumpArchive(file: string, c: Compression, extract: tar.Extract, st: ArchiveState): Promise<void> {
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  try {
    const chunks = c === 'zstd' ? zstdChunks(input, st) : c === 'gzip' ? counted(input.pipe(createGunzip()), st) : counted(input, st);
    for await (const chunk of chunks) {
      if (!(await writeChunk(extract, chunk))) return;
    }
    extract.end(undefined);
  } catch (err) {
    if (err instanceof FeedError) throw err;
    throw st.error(`truncated or corrupt archive: ${(err as Error).message}`, err);
  } finally {
    input.destroy();
  }
}

async function* counted(src: AsyncIterable<Buffer>, st: ArchiveState): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    st.count(chunk.length);
    yield chunk;
  }
}

/** fzstd's push() is synchronous: feed small slices and hand their output on with backpressure. */
async function* zstdChunks(src: AsyncIterable<Buffer>, st: ArchiveState): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  let sliceBytes = 0;
  const d = new Decompress((chunk) => {
    st.count(chunk.length);
    sliceBytes += chunk.length;
    if (sliceBytes > ZSTD_MAX_SLICE_OUTPUT) {
      throw st.error(`decompression bomb: ${ZSTD_SLICE} compressed bytes expand beyond ${ZSTD_MAX_SLICE_OUTPUT} bytes`);
    }
    out.push(chunk);
  });
  const take = () => {
    const r = out;
    out = [];
    sliceBytes = 0;
    return r;
  };
  for await (const buf of src) {
    for (let off = 0; off < buf.length; off += ZSTD_SLICE) {
      d.push(buf.subarray(off, off + ZSTD_SLICE));
      yield* take();
    }
  }
  d.push(new Uint8Array(0), true);
  yield* take();
}

/** Writes with backpressure; false when the extractor was closed (the reader stopped early). */
function writeChunk(extract: tar.Extract, chunk: Uint8Array): Promise<boolean> {
  if (extract.destroyed) return Promise.resolve(false);
  if (extract.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      extract.off('drain', onDrain);
      extract.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    extract.once('drain', onDrain);
    extract.once('close', onClose);
  });
}
