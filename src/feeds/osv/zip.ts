import path from 'node:path';
import yauzl from 'yauzl';
import { FeedError, describePlace, type ErrorPlace } from '../../errors.js';

/**
 * Reads a zip file entry by entry from its central directory (yauzl, lazy), never unpacking
 * the archive whole: each entry is inflated on its own, counted against a per-entry and a
 * total budget (zip bombs), and refused when its name is absolute or climbs out of the
 * archive (`../x`, `C:\x`, `\\host`), like src/feeds/archive.ts does for tar entries.
 */
export interface ZipEntry {
  name: string;
  body: Buffer;
}

export interface ZipOptions {
  /** Largest entry accepted, uncompressed (default 64 MiB; one OSV advisory is a few KiB). */
  maxEntryBytes?: number;
  /** Largest total uncompressed size (default 16 GiB). */
  maxTotalBytes?: number;
  displayName: string;
  feed: string;
}

export const DEFAULT_MAX_ZIP_ENTRY = 64 * 1024 * 1024;
export const DEFAULT_MAX_ZIP_TOTAL = 16 * 1024 * 1024 * 1024;

/** True when the entry name is absolute or escapes the archive root. */
export function zipNameEscapes(name: string): boolean {
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return true;
  const norm = path.posix.normalize(name.replace(/\\/g, '/'));
  return norm === '..' || norm.startsWith('../');
}

function error(opts: ZipOptions, text: string, entry?: string, cause?: unknown): FeedError {
  const place: ErrorPlace = { feed: opts.feed, file: opts.displayName, record: entry ? `entry ${entry}` : undefined };
  return new FeedError(`${describePlace(place)}: ${text}`, { place, cause });
}

export async function* readZip(file: string, opts: ZipOptions): AsyncGenerator<ZipEntry> {
  const maxEntry = opts.maxEntryBytes ?? DEFAULT_MAX_ZIP_ENTRY;
  const maxTotal = opts.maxTotalBytes ?? DEFAULT_MAX_ZIP_TOTAL;
  let zip: yauzl.ZipFile;
  try {
    // decodeStrings off: names are checked here, so a hostile name is reported, not silently rewritten.
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
      yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: false } as yauzl.Options, (err, z) => (err ? reject(err) : resolve(z)));
    });
  } catch (err) {
    throw error(opts, `not a readable zip archive: ${(err as Error).message}`, undefined, err);
  }
  let total = 0;
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) return;
      const raw = entry.fileName as unknown as Buffer | string;
      const name = typeof raw === 'string' ? raw : raw.toString('utf8');
      if (zipNameEscapes(name)) throw error(opts, 'entry path is absolute or escapes the archive', name);
      if (entry.uncompressedSize > maxEntry) throw error(opts, `entry of ${entry.uncompressedSize} bytes exceeds the limit of ${maxEntry} bytes`, name);
      total += entry.uncompressedSize;
      if (total > maxTotal) throw error(opts, `zip bomb: uncompressed archive exceeds ${maxTotal} bytes`, name);
      let body: Buffer;
      try {
        body = await readEntry(zip, entry, maxEntry);
      } catch (err) {
        throw error(opts, `truncated or corrupt entry: ${(err as Error).message}`, name, err);
      }
      yield { name, body };
    }
  } catch (err) {
    if (err instanceof FeedError) throw err;
    throw error(opts, `truncated or corrupt zip archive: ${(err as Error).message}`, undefined, err);
  } finally {
    zip.close();
  }
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (e: yauzl.Entry) => { cleanup(); resolve(e); };
    const onEnd = () => { cleanup(); resolve(null); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, maxEntry: number): Promise<Buffer> {
  if (/\/$/.test(String(entry.fileName))) return Buffer.alloc(0);
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
    zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s)));
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxEntry) throw new Error(`entry exceeds the limit of ${maxEntry} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
