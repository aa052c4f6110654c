import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What fetch recorded about one downloaded file (contract §2: URL, ETag, Last-Modified, sha256, time). */
export interface FileRecord {
  /** Part the file belongs to (`rhel-vex`, `debian.tracker`, …). */
  part: string;
  /** Path relative to the part directory, '/'-separated. */
  path: string;
  url: string;
  etag: string;
  lastModified: string;
  sha256: string;
  size: number;
  /** RFC 3339 time the file content was last downloaded (not re-set on 304). */
  fetchedAt: string;
}

/** `<mirror>/.fetch/<feed>.json` */
export interface FetchRecord {
  feed: string;
  /** RFC 3339 time of the fetch run that produced this record. */
  fetchedAt: string;
  /** Base URL per part used for this fetch. */
  baseUrls: Record<string, string>;
  files: FileRecord[];
}

export function fetchRecordPath(mirror: string, feed: string): string {
  return path.join(mirror, '.fetch', `${feed}.json`);
}

export async function readFetchRecord(mirror: string, feed: string): Promise<FetchRecord | null> {
  try {
    return JSON.parse(await readFile(fetchRecordPath(mirror, feed), 'utf8')) as FetchRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Writes the record atomically (temp file + rename), files sorted by part and path. */
export async function writeFetchRecord(mirror: string, record: FetchRecord): Promise<void> {
  const file = fetchRecordPath(mirror, record.feed);
  await mkdir(path.dirname(file), { recursive: true });
  const files = [...record.files].sort((a, b) => (a.part + '/' + a.path < b.part + '/' + b.path ? -1 : 1));
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ ...record, files }, null, 2) + '\n');
  await rename(tmp, file);
}
