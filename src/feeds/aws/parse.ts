import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Logger } from '../../log.js';
import type { Vulnerability } from '../../model/vulnerability.js';
import { readFetchRecord, type FetchRecord } from '../fetch-record.js';
import { XmlSyntaxError } from '../oval/xml.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { FEED, baseUrls, checkedRepoMd, feedError, mirrorLocation, readMirrorList } from './fetch.js';
import { RELEASES, type ReleaseInfo } from './releases.js';
import { RepoMdError } from './repomd.js';
import { updateInfoRecords } from './updateinfo.js';

/**
 * One updater per release whose mirror list the fetch record holds (AL1, AL2, AL2023 order); a
 * release recorded absent has none. The files used are the ones claircore would have used: the
 * first mirror (in mirror-list order) whose repomd.xml, respectively updateinfo.xml.gz, the
 * fetch record lists. The repomd.xml is checked again (it must decode and list an updateinfo),
 * then the updateinfo is streamed.
 */
export async function* parseAws(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  if (!rec) throw feedError({ file: `.fetch/${FEED}.json` }, 'no fetch record', undefined, `run \`clair-bundle fetch --source ${FEED}\``);
  const bases = baseUrls(rec.baseUrls);
  const has = (part: string, rel: string) => rec.files.some((f) => f.part === part && f.path === rel);
  const disk = (part: string, rel: string) => path.join(ctx.partDir(part), ...rel.split('/'));
  for (const r of RELEASES) {
    const listDisplay = `${r.part}/${r.mirrorList}`;
    if (!has(r.part, r.mirrorList)) {
      if (isAbsent(rec, r)) {
        ctx.log.info('aws release absent upstream at fetch time; no updater', { feed: FEED, updater: r.updater });
        continue;
      }
      throw feedError({ file: listDisplay }, 'not in the fetch record; run fetch again');
    }
    await present(disk(r.part, r.mirrorList), listDisplay);
    const mirrors = await readMirrorList(disk(r.part, r.mirrorList), listDisplay);
    const pick = (file: 'repomd.xml' | 'updateinfo.xml.gz') => mirrors.map((m) => mirrorLocation(m, file, bases, r)).find((l) => l && has(l.part, l.rel));
    const repomd = pick('repomd.xml');
    const updateinfo = pick('updateinfo.xml.gz');
    if (!repomd || !updateinfo) throw feedError({ file: listDisplay }, `no fetched ${repomd ? 'updateinfo.xml.gz' : 'repomd.xml'} for any mirror of this list; run fetch again`);
    const mdDisplay = `${repomd.part}/${repomd.rel}`;
    await present(disk(repomd.part, repomd.rel), mdDisplay);
    try {
      const md = await checkedRepoMd(disk(repomd.part, repomd.rel));
      if (md.updateinfoChecksum === undefined) throw new RepoMdError('no data entry of type updateinfo');
    } catch (err) {
      if (err instanceof XmlSyntaxError) throw feedError({ file: mdDisplay, record: `line ${err.line}` }, `malformed XML: ${err.message}`, err);
      if (err instanceof RepoMdError) throw feedError({ file: mdDisplay }, `not a repomd.xml claircore can use: ${err.message}`, err);
      throw err;
    }
    const uiDisplay = `${updateinfo.part}/${updateinfo.rel}`;
    await present(disk(updateinfo.part, updateinfo.rel), uiDisplay);
    yield { type: 'vulnerability', updater: r.updater, records: records(disk(updateinfo.part, updateinfo.rel), uiDisplay, r, ctx.log) };
  }
}

function isAbsent(rec: FetchRecord, r: ReleaseInfo): boolean {
  return (rec.absent ?? []).some((a) => a.part === r.part && a.path === r.mirrorList);
}

async function present(file: string, display: string): Promise<void> {
  await access(file).catch((err) => {
    throw feedError({ file: display }, 'listed in the fetch record but missing from the mirror; run fetch again', err);
  });
}

async function* records(file: string, display: string, r: ReleaseInfo, log: Logger): AsyncGenerator<Vulnerability> {
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  let n = 0;
  try {
    for await (const v of updateInfoRecords(gunzip as AsyncIterable<Buffer>, r.updater, r.dist)) {
      n++;
      yield v;
    }
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw feedError({ file: display, record: `line ${err.line}` }, `malformed XML: ${err.message}`, err);
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw feedError({ file: display }, `corrupt or truncated gzip stream: ${(err as Error).message}`, err);
    throw err;
  } finally {
    gunzip.destroy();
    raw.destroy();
  }
  log.info('parsed aws updateinfo', { feed: FEED, file: display, updater: r.updater, records: n });
}
