import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import type { EnrichmentRecord } from '../../model/vulnerability.js';
import { readFetchRecord } from '../fetch-record.js';
import { GoJsonSyntaxError } from '../go-json.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { FEED, PART, YEARS_OPTION, feedError, feedPath, metaPath, yearsOption } from './fetch.js';
import { MetaError, parseMeta } from './meta.js';
import { FeedShapeError, UPDATER, feedRecords } from './records.js';

/**
 * One enrichment output, `clair.cvss`, from every yearly feed the fetch record lists (or the
 * years `--option cvss-years` names, each of which must have been fetched), oldest first. Each
 * year's `.meta` is checked the way claircore reads it, then its `.json.gz` is streamed.
 */
export async function* parseCvss(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  if (!rec) throw feedError({ file: `.fetch/${FEED}.json` }, 'no fetch record', undefined, `run \`clair-bundle fetch --source ${FEED}\``);
  const listed = new Set(rec.files.filter((f) => f.part === PART).map((f) => f.path));
  const fetchedYears = [...listed].map((p) => /^nvdcve-2\.0-(\d{4})\.json\.gz$/.exec(p)).filter((m) => m !== null).map((m) => Number(m[1]));
  const wanted = yearsOption(ctx.options);
  for (const y of wanted ?? []) {
    if (!listed.has(feedPath(y))) {
      throw feedError({ file: `${PART}/${feedPath(y)}` }, `year ${y} was not fetched into this mirror`, undefined, `run \`clair-bundle fetch --source ${FEED} --option ${YEARS_OPTION}=…\` with this year`);
    }
  }
  const years = (wanted ?? fetchedYears).sort((a, b) => a - b);
  for (const y of years) {
    if (!listed.has(metaPath(y))) throw feedError({ file: `${PART}/${metaPath(y)}` }, 'not in the fetch record (claircore reads every year\'s .meta); run fetch again');
  }
  yield { type: 'enrichment', updater: UPDATER, records: records(ctx, years) };
}

async function* records(ctx: ParseContext, years: number[]): AsyncGenerator<EnrichmentRecord> {
  const dir = ctx.partDir(PART);
  let total = 0;
  for (const y of years) {
    const metaDisplay = `${PART}/${metaPath(y)}`;
    let text: string;
    try {
      text = await readFile(path.join(dir, metaPath(y)), 'utf8');
    } catch (err) {
      throw feedError({ file: metaDisplay }, 'listed in the fetch record but missing from the mirror; run fetch again', err);
    }
    try {
      parseMeta(text);
    } catch (err) {
      if (err instanceof MetaError) throw feedError({ file: metaDisplay, record: `line ${err.line}` }, `malformed NVD meta file: ${err.message}`, err);
      throw err;
    }
    const got = await yearRecords(path.join(dir, feedPath(y)), `${PART}/${feedPath(y)}`);
    total += got.length;
    ctx.log.debug('parsed NVD feed', { feed: FEED, year: y, records: got.length });
    yield* got;
  }
  ctx.log.info('parsed cvss', { feed: FEED, updater: UPDATER, years: years.length, records: total });
}

/** The records of one `.json.gz`; malformed gzip, JSON or shape is a FeedError naming file and record. */
export async function yearRecords(file: string, display: string): Promise<EnrichmentRecord[]> {
  await access(file).catch((err) => {
    throw feedError({ file: display }, 'listed in the fetch record but missing from the mirror; run fetch again', err);
  });
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const gunzip = createGunzip({ chunkSize: 1 << 18 });
  raw.on('error', (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  try {
    return await feedRecords(gunzip as AsyncIterable<Buffer>);
  } catch (err) {
    if (err instanceof FeedShapeError) {
      const record = err.place ? `vulnerabilities[${err.place.index}]${err.place.id ? ` (${err.place.id})` : ''}` : undefined;
      throw feedError({ file: display, record }, `not an NVD CVE feed claircore can read: ${err.message}`, err);
    }
    if (err instanceof GoJsonSyntaxError) throw feedError({ file: display }, `malformed JSON: ${err.message}`, err);
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw feedError({ file: display }, `corrupt or truncated gzip stream: ${(err as Error).message}`, err);
    throw err;
  } finally {
    gunzip.destroy();
    raw.destroy();
  }
}
