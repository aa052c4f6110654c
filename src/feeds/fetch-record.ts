import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FeedError } from '../errors.js';

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

/** An optional upstream file that the server did not have (HTTP 404) when fetch asked. */
export interface AbsentRecord {
  part: string;
  path: string;
  url: string;
  /** HTTP status that was answered. */
  status: number;
  /** RFC 3339 time of the request. */
  checkedAt: string;
}

/** `<mirror>/.fetch/<feed>.json` */
export interface FetchRecord {
  feed: string;
  /** RFC 3339 time of the fetch run that produced this record. */
  fetchedAt: string;
  /** Base URL per part used for this fetch. */
  baseUrls: Record<string, string>;
  files: FileRecord[];
  /** Optional files upstream did not serve; parse treats them as legitimately missing. */
  absent?: AbsentRecord[];
}

export function fetchRecordPath(mirror: string, feed: string): string {
  return path.join(mirror, '.fetch', `${feed}.json`);
}

export async function readFetchRecord(mirror: string, feed: string): Promise<FetchRecord | null> {
  const file = fetchRecordPath(mirror, feed);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const rec = JSON.parse(text) as FetchRecord;
    if (!rec || typeof rec !== 'object' || !Array.isArray(rec.files)) throw new Error('not a fetch record');
    return rec;
  } catch (err) {
    throw new FeedError(`file ${file}: unreadable fetch record: ${(err as Error).message}`, {
      cause: err, place: { feed, file }, hint: `run \`clair-bundle fetch --source ${feed}\` again`,
    });
  }
}

/** The record of one file, by part and part-relative path. */
export function findFileRecord(rec: FetchRecord | null, part: string, relPath: string): FileRecord | undefined {
  return rec?.files.find((f) => f.part === part && f.path === relPath);
}

const byPartPath = (a: { part: string; path: string }, b: { part: string; path: string }) =>
  a.part + '/' + a.path < b.part + '/' + b.path ? -1 : a.part + '/' + a.path > b.part + '/' + b.path ? 1 : 0;

/** Writes the record atomically (temp file + rename), files sorted by part and path. */
export async function writeFetchRecord(mirror: string, record: FetchRecord): Promise<void> {
  const file = fetchRecordPath(mirror, record.feed);
  await mkdir(path.dirname(file), { recursive: true });
  const files = [...record.files].sort(byPartPath);
  const out: FetchRecord = { ...record, files };
  if (record.absent) out.absent = [...record.absent].sort(byPartPath);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(out, null, 2) + '\n');
  await rename(tmp, file);
}

/**
 * Removes from the mirror the files a previous fetch recorded under `parts` that the new fetch's
 * `files` no longer list (upstream dropped them, or the options changed). A recorded path with
 * `..` in it is never touched.
 */
export async function removeStaleFiles(
  prev: FetchRecord | null, files: readonly FileRecord[], parts: readonly string[], partDir: (part: string) => string,
): Promise<void> {
  const keep = new Set(files.map((f) => `${f.part}/${f.path}`));
  for (const f of prev?.files ?? []) {
    if (!parts.includes(f.part) || keep.has(`${f.part}/${f.path}`) || f.path.split('/').includes('..')) continue;
    await rm(path.join(partDir(f.part), ...f.path.split('/')), { force: true });
  }
}
