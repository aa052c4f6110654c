import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { FeedError, feedErrors } from '../../errors.js';
import { findFileRecord, readFetchRecord, removeStaleFiles, writeFetchRecord, type AbsentRecord, type FetchRecord, type FileRecord } from '../fetch-record.js';
import { HttpStatusError, downloadFile, type RetryOptions } from '../http.js';
import { XmlSyntaxError } from '../oval/xml.js';
import type { FetchContext } from '../types.js';
import { MirrorListError, locate, mirrorFile, parseMirrorList, type Located, type Mirror } from './mirrors.js';
import { PARTS, RELEASES, type ReleaseInfo } from './releases.js';
import { RepoMdError, parseRepoMd, type RepoMd } from './repomd.js';

/**
 * Mirrors Amazon Linux's ALAS data the way claircore's aws updaters fetch it (aws/client.go,
 * updater.go), per release: the mirror list; then, trying the mirrors in order,
 * `<mirror>/repodata/repomd.xml` until one answers 200 and decodes (it must list an updateinfo
 * entry), then, again from the first mirror, `<mirror>/repodata/updateinfo.xml.gz` until one
 * answers 200 (its gzip header must be valid). A mirror list that is not there (404) is recorded
 * as absent and gets no updater, as a failing claircore updater writes nothing; every other
 * failure fails the fetch. Requests are conditional on the previous fetch record.
 */
export const FEED = 'aws';

export const feedError = feedErrors(FEED);

export interface AwsFetchOptions {
  retry?: RetryOptions;
}

/** Effective base URL per part, with a trailing slash. */
export function baseUrls(given: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(PARTS).map(([part, def]) => {
    const b = given[part] ?? def;
    return [part, b.endsWith('/') ? b : b + '/'];
  }));
}

/** The mirror's location of a release's file for one mirror, or undefined when it cannot be fetched. */
export function mirrorLocation(m: Mirror, file: 'repomd.xml' | 'updateinfo.xml.gz', bases: Readonly<Record<string, string>>, r: ReleaseInfo): Located | undefined {
  return m.url ? locate(mirrorFile(m.url, file), PARTS, bases, r.part) : undefined;
}

export async function readMirrorList(file: string, display: string): Promise<Mirror[]> {
  try {
    return parseMirrorList(await readFile(file));
  } catch (err) {
    if (err instanceof MirrorListError) throw feedError({ file: display, record: `line ${err.line}` }, `bad mirror list (claircore's url.Parse fails): ${err.message}`, err);
    throw err;
  }
}

export async function checkedRepoMd(file: string): Promise<RepoMd> {
  const body = await readFile(file);
  return parseRepoMd((async function* () {
    yield body;
  })());
}

/** Go's gzip.NewReader header check: magic 1f 8b, method 8 (deflate), no reserved flag bits. */
export async function checkGzipHeader(file: string): Promise<string | undefined> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(10), 0, 10, 0);
    if (bytesRead < 10) return 'shorter than a gzip header';
    if (buffer[0] !== 0x1f || buffer[1] !== 0x8b || buffer[2] !== 8) return 'not gzip (invalid header)';
    if ((buffer[3] & 0xe0) !== 0) return 'gzip header with reserved flags set';
    return undefined;
  } finally {
    await fh.close();
  }
}

export async function fetchAws(ctx: FetchContext, opts: AwsFetchOptions = {}): Promise<void> {
  const bases = baseUrls(ctx.baseUrls);
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const files: FileRecord[] = [];
  const absent: AbsentRecord[] = [];
  const get = (loc: Located) => downloadFile(loc.url, {
    part: loc.part, relPath: loc.rel, dir: ctx.partDir(loc.part), previous: findFileRecord(prev, loc.part, loc.rel), signal: ctx.signal, retry: opts.retry,
  });
  const disk = (loc: Located) => path.join(ctx.partDir(loc.part), ...loc.rel.split('/'));
  const kept = new Set<string>();
  const keep = (rec: FileRecord) => {
    const key = `${rec.part}/${rec.path}`;
    if (!kept.has(key)) files.push(rec);
    kept.add(key);
  };

  for (const r of RELEASES) {
    const list: Located = { part: r.part, rel: r.mirrorList, url: bases[r.part] + r.mirrorList };
    const listDisplay = `${r.part}/${r.mirrorList}`;
    let listRec: FileRecord;
    try {
      listRec = (await get(list)).record;
    } catch (err) {
      if (err instanceof HttpStatusError && err.status === 404) {
        absent.push({ part: r.part, path: r.mirrorList, url: list.url, status: 404, checkedAt: new Date().toISOString() });
        ctx.log.warn('aws mirror list not found; no updater for this release', { feed: FEED, updater: r.updater, url: list.url });
        continue;
      }
      if (err instanceof FeedError) throw feedError({ file: listDisplay }, err.message, err);
      throw err;
    }
    keep(listRec);
    const mirrors = await readMirrorList(disk(list), listDisplay);

    let repomd: RepoMd | undefined;
    for (const m of mirrors) {
      const loc = mirrorLocation(m, 'repomd.xml', bases, r);
      if (!loc) {
        ctx.log.warn('aws mirror not usable; next mirror', { feed: FEED, updater: r.updater, mirror: m.text });
        continue;
      }
      try {
        const got = await get(loc);
        repomd = await checkedRepoMd(disk(loc));
        keep(got.record);
        break;
      } catch (err) {
        if (!(err instanceof FeedError || err instanceof XmlSyntaxError || err instanceof RepoMdError)) throw err;
        // claircore logs and tries the next mirror for a failed request, a non-200 answer or an undecodable document.
        if (!kept.has(`${loc.part}/${loc.rel}`)) await rm(disk(loc), { force: true });
        ctx.log.warn('aws repomd.xml not usable from this mirror; next mirror', { feed: FEED, updater: r.updater, url: loc.url, reason: (err as Error).message });
      }
    }
    if (!repomd) throw feedError({ file: listDisplay }, `every mirror failed to give a repomd.xml (${mirrors.length} tried)`);
    if (repomd.updateinfoChecksum === undefined) throw feedError({ file: listDisplay }, 'repomd.xml lists no updateinfo (claircore: updates repo metadata could not be retrieved)');

    let updateinfo: FileRecord | undefined;
    for (const m of mirrors) {
      const loc = mirrorLocation(m, 'updateinfo.xml.gz', bases, r);
      if (!loc) continue;
      try {
        updateinfo = (await get(loc)).record;
      } catch (err) {
        if (!(err instanceof FeedError)) throw err;
        ctx.log.warn('aws updateinfo.xml.gz not available from this mirror; next mirror', { feed: FEED, updater: r.updater, url: loc.url, reason: err.message });
        continue;
      }
      const bad = await checkGzipHeader(disk(loc));
      if (bad) throw feedError({ file: `${loc.part}/${loc.rel}` }, `${bad} (claircore's gzip reader fails the run)`);
      keep(updateinfo);
      break;
    }
    if (!updateinfo) throw feedError({ file: listDisplay }, 'every mirror failed to give updateinfo.xml.gz');
    ctx.log.info('fetched aws release', { feed: FEED, updater: r.updater, checksum: repomd.updateinfoChecksum });
  }

  // Files the previous record listed and this one does not are removed.
  await removeStaleFiles(prev, files, Object.keys(PARTS), (part) => ctx.partDir(part));
  const record: FetchRecord = { feed: FEED, fetchedAt: new Date().toISOString(), baseUrls: bases, files, absent };
  await writeFetchRecord(ctx.mirror, record);
}
