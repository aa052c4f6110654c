import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Logger } from '../../log.js';
import type { EnrichmentRecord } from '../../model/vulnerability.js';
import { readFetchRecord } from '../fetch-record.js';
import { enrichmentStoreProblem, goDecodeUtf8, goFloat64, goObject, goQuote, utf8SeqLen } from '../go-json.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { FEED, PART, feedError } from './fetch.js';
import { CsvParseError, GoCsvReader } from './go-csv.js';
import { goParseFloat } from './go-float.js';

/**
 * The EPSS file → clair.epss records, as claircore's FetchEnrichment builds them: the first CSV
 * record (exactly 2 fields) is metadata `#model_version:<v>,score_date:<d>` (each field trimmed,
 * `#` dropped, cut at the first `:`; both values required); then `#` lines are comments and every
 * record has exactly 3 fields; the header must be exactly `cve,epss,percentile`; a row whose
 * numbers strconv.ParseFloat refuses (or that json.Marshal refuses: NaN, ±Inf) is skipped with a
 * warning; any CSV error fails the file. Record: tags `[cve]`, enrichment = json.Marshal of
 * `{modelVersion, date, cve, epss, percentile}`.
 */
export const UPDATER = 'clair.epss';

export async function* parseEpss(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  if (!rec) throw feedError({ file: `.fetch/${FEED}.json` }, 'no fetch record', undefined, `run \`clair-bundle fetch --source ${FEED}\``);
  const files = rec.files.filter((f) => f.part === PART);
  if (files.length !== 1) throw feedError({ file: `.fetch/${FEED}.json` }, `expected one EPSS file in the fetch record, found ${files.length}; run fetch again`);
  const rel = files[0].path;
  yield { type: 'enrichment', updater: UPDATER, records: records(path.join(ctx.partDir(PART), ...rel.split('/')), `${PART}/${rel}`, ctx.log) };
}

async function* records(file: string, display: string, log: Logger): AsyncGenerator<EnrichmentRecord> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw feedError({ file: display }, 'listed in the fetch record but missing from the mirror; run fetch again', err);
  }
  let csv: Buffer;
  try {
    csv = gunzipSync(data);
  } catch (err) {
    throw feedError({ file: display }, `not a gzip file, or a corrupt one (claircore gunzips the EPSS file): ${(err as Error).message}`, err);
  }
  yield* epssRecords(csv, display, log);
}

const SPACES = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);
const isSpace = (cp: number) => SPACES.has(cp) || (cp >= 0x2000 && cp <= 0x200a);

/** Go bytes/strings.TrimSpace over bytes (invalid UTF-8 is not space). */
function trimSpace(b: Buffer): Buffer {
  const runes: [number, number, number][] = [];
  for (let i = 0; i < b.length;) {
    const n = utf8SeqLen(b, i) || 1;
    const cp = n === 1 ? (b[i] < 0x80 ? b[i] : -1) : goDecodeUtf8(b, i, i + n).codePointAt(0)!;
    runes.push([i, i + n, cp]);
    i += n;
  }
  let s = 0;
  let e = runes.length;
  while (s < e && isSpace(runes[s][2])) s++;
  while (e > s && isSpace(runes[e - 1][2])) e--;
  return s === e ? b.subarray(0, 0) : b.subarray(runes[s][0], runes[e - 1][1]);
}

/** The records of a decompressed EPSS CSV. */
export function* epssRecords(csv: Buffer, display: string, log: Logger): Generator<EnrichmentRecord> {
  const r = new GoCsvReader(csv);
  const fail = (err: unknown, what: string): never => {
    if (err instanceof CsvParseError) throw feedError({ file: display, record: `line ${err.line}` }, `${what}: ${err.message}`, err);
    throw err;
  };
  r.fieldsPerRecord = 2;
  let meta: Buffer[] | null = null;
  try {
    meta = r.read();
  } catch (err) {
    fail(err, 'unable to read metadata line');
  }
  if (!meta) throw feedError({ file: display, record: 'line 1' }, 'unable to read metadata line: EOF');
  let modelVersion: Buffer | undefined;
  let date: Buffer | undefined;
  for (const raw of meta) {
    let field = trimSpace(raw);
    if (field[0] === 0x23) field = field.subarray(1);
    const c = field.indexOf(0x3a);
    if (c === -1) throw feedError({ file: display, record: 'line 1' }, `unexpected metadata field format: ${JSON.stringify(goDecodeUtf8(field))}`);
    const key = field.subarray(0, c).toString('latin1');
    if (key === 'model_version') modelVersion = field.subarray(c + 1);
    else if (key === 'score_date') date = field.subarray(c + 1);
  }
  if (!modelVersion?.length || !date?.length) {
    throw feedError({ file: display, record: 'line 1' }, 'missing metadata fields in record (model_version and score_date are required)');
  }
  r.comment = 0x23;
  r.fieldsPerRecord = 3;
  let header: Buffer[] | null = null;
  try {
    header = r.read();
  } catch (err) {
    fail(err, 'unable to read header line');
  }
  if (!header) throw feedError({ file: display, record: `line ${r.line}` }, 'unable to read header line: EOF');
  if (header.map((h) => h.toString('latin1')).join('\u0000') !== ['cve', 'epss', 'percentile'].join('\u0000')) {
    throw feedError({ file: display, record: `line ${r.line}` }, `unexpected CSV headers: ${JSON.stringify(header.map((h) => goDecodeUtf8(h)))}`);
  }
  const mv = goQuote(modelVersion);
  const dt = goQuote(date);
  let count = 0;
  let skipped = 0;
  for (;;) {
    let row: Buffer[] | null = null;
    try {
      row = r.read();
    } catch (err) {
      fail(err, 'unable to read line in CSV');
    }
    if (!row) break;
    const [cve, e, p] = row;
    const epss = goParseFloat(e.toString('latin1'));
    const percentile = goParseFloat(p.toString('latin1'));
    if (epss === undefined || percentile === undefined || !Number.isFinite(epss) || !Number.isFinite(percentile)) {
      skipped++;
      log.warn('skipping invalid EPSS record', { feed: FEED, file: display, line: r.line, cve: goDecodeUtf8(cve) });
      continue;
    }
    const json = goObject([['modelVersion', mv], ['date', dt], ['cve', goQuote(cve)], ['epss', goFloat64(epss)], ['percentile', goFloat64(percentile)]]);
    const tags = [goDecodeUtf8(cve)];
    const problem = enrichmentStoreProblem(tags, json);
    if (problem) throw feedError({ file: display, record: `line ${r.line}` }, problem);
    count++;
    yield { updater: UPDATER, tags, json };
  }
  log.info('parsed epss', { feed: FEED, file: display, updater: UPDATER, records: count, skipped });
}
