import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFetchRecord, type AbsentRecord, type FileRecord } from '../../../../src/feeds/fetch-record.js';
import type { Feed, FetchContext, ParseContext } from '../../../../src/feeds/types.js';
import { silentLogger, type Logger } from '../../../../src/log.js';
import type { EnrichmentRecord, Vulnerability } from '../../../../src/model/vulnerability.js';

/** Helpers shared by the aws, cvss, epss and kev unit tests. */
export const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures');
export { DEFAULT_FEEDS_DIR as SHARED_FEEDS } from '../../../helpers/feed-server.js';

export function parseContext(mirror: string, options: Record<string, string> = {}, log: Logger = silentLogger): ParseContext {
  return { mirror, partDir: (part) => path.join(mirror, part), log, options };
}

export function fetchContext(mirror: string, baseUrls: Record<string, string>, options: Record<string, string> = {}, log: Logger = silentLogger): FetchContext {
  return { mirror, partDir: (part) => path.join(mirror, part), log, options, baseUrls };
}

export interface Output<T> {
  type: string;
  updater: string;
  records: T[];
}

/** Every output of a feed's parse, drained in order. */
export async function collect<T = EnrichmentRecord | Vulnerability>(feed: Feed, ctx: ParseContext): Promise<Output<T>[]> {
  const out: Output<T>[] = [];
  for await (const o of feed.parse(ctx)) {
    if (o.type === 'mapping') throw new Error('unexpected mapping output');
    const records: T[] = [];
    for await (const r of o.records as AsyncIterable<T>) records.push(r);
    out.push({ type: o.type, updater: o.updater, records });
  }
  return out;
}

/** A mirror holding `files` (bytes) and a fetch record listing them. */
export async function makeMirror(
  feed: string,
  files: { part: string; path: string; body: Buffer | string }[],
  opts: { absent?: { part: string; path: string }[]; baseUrls?: Record<string, string> } = {},
): Promise<string> {
  const mirror = await mkdtemp(path.join(tmpdir(), `${feed}-parse-`));
  const records: FileRecord[] = [];
  for (const f of files) {
    const dest = path.join(mirror, f.part, ...f.path.split('/'));
    await mkdir(path.dirname(dest), { recursive: true });
    const body = typeof f.body === 'string' ? Buffer.from(f.body) : f.body;
    await writeFile(dest, body);
    records.push({
      part: f.part, path: f.path, url: `https://upstream.invalid/${f.path}`, etag: '', lastModified: '',
      sha256: createHash('sha256').update(body).digest('hex'), size: body.length, fetchedAt: '2025-01-04T00:15:56.000Z',
    });
  }
  const absent: AbsentRecord[] = (opts.absent ?? []).map((a) => ({ ...a, url: `https://upstream.invalid/${a.path}`, status: 404, checkedAt: '2025-01-04T00:15:56.000Z' }));
  await writeFetchRecord(mirror, { feed, fetchedAt: '2025-01-04T00:15:56.000Z', baseUrls: opts.baseUrls ?? {}, files: records, absent });
  return mirror;
}
