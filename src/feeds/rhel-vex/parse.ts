import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Vulnerability } from '../../model/vulnerability.js';
import { readArchive } from '../archive.js';
import { findFileRecord, readFetchRecord, type FetchRecord } from '../fetch-record.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { DocumentError, UPDATER, convertDocument, type ConvertOptions } from './csaf.js';
import {
  CHANGES_FILE, DELETIONS_FILE, FEED, LOOK_BACK_TO_YEAR, archiveNameDate, checkDocPath, deletedId, feedError, goPathBase,
  pathYear, readArchiveName, readChangeRows,
} from './mirror.js';
import { DEFAULT_TARGET, IGNORE_KERNEL_OPTION, RULES, RULES_OPTION, isRulesTarget } from './rules.js';
import { HelperError } from './status.js';
import { CsafDecodeError, decodeCsaf } from './upstream.js';

/**
 * The offline snapshot of the feed, one document at a time (spec clair-updaters.md §4.3–4.4
 * applied to a mirror): every document changed (changes.csv) after the archive's
 * Last-Modified, from its loose copy; then every archive document whose base name was not
 * changed or deleted after that time. Documents of years before 2015 are ignored, deleted
 * CVEs yield nothing (unless `deletionDropsChanged` is off, as in v1.5.48: then a deletion
 * does not undo a changed document read before it). The feed-wide state is the set of changed/deleted names and, for `creator` rules,
 * claircore's product cache.
 */
export const PART = 'rhel-vex';

export async function* parseRhelVex(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  yield { type: 'vulnerability', updater: UPDATER, records: snapshotRecords(ctx.partDir(PART), ctx.mirror, convertOptions(ctx.options), ctx.log) };
}

export function convertOptions(options: Readonly<Record<string, string>>): ConvertOptions {
  const target = options[RULES_OPTION] ?? options.target ?? DEFAULT_TARGET;
  if (!isRulesTarget(target)) {
    throw new ConfigError(`rhel-vex: no rules for claircore target ${JSON.stringify(target)}`, {
      hint: `one of ${Object.keys(RULES).join(', ')}`,
    });
  }
  return { rules: RULES[target], ignoreKernelPackages: options[IGNORE_KERNEL_OPTION] === 'true' };
}

/** Everything after the archive's time that replaces or removes archive documents. */
interface Delta {
  /** Base names changed or deleted after the archive time. */
  changed: Set<string>;
  /** Paths of changed documents, in changes.csv order. */
  loose: Set<string>;
  /** Uppercased CVE ids deleted after the archive time. */
  deleted: Set<string>;
}

export async function* snapshotRecords(dir: string, mirror: string, options: ConvertOptions, log: Logger): AsyncGenerator<Vulnerability> {
  // One snapshot is one claircore DeltaParse: `creator` rules share a product cache across it.
  const opts = options.rules.resolution === 'creator' ? { productCache: new Map(), ...options } : options;
  const archiveName = await readArchiveName(dir);
  const since = archiveTime(await readFetchRecord(mirror, FEED), archiveName, log);
  const delta = await readDelta(dir, since);
  const stats = { loose: 0, fromArchive: 0, skipped: 0, records: 0 };
  for (const rel of delta.loose) {
    const file = `${PART}/${rel}`;
    const body = await readLoose(path.join(dir, ...rel.split('/')), file);
    const records = documentRecords(body, file, opts, opts.rules.deletionDropsChanged ? delta.deleted : undefined);
    stats.loose++;
    stats.records += records.length;
    yield* records;
  }
  const display = `${PART}/${archiveName}`;
  for await (const entry of readArchive(path.join(dir, archiveName), { displayName: display, feed: FEED })) {
    const year = pathYear(entry.name, { file: display, record: `entry ${entry.name}` });
    if (year < LOOK_BACK_TO_YEAR || delta.changed.has(goPathBase(entry.name))) {
      stats.skipped++;
      continue;
    }
    const records = documentRecords(entry.body, `${display}[${entry.name}]`, opts);
    stats.fromArchive++;
    stats.records += records.length;
    yield* records;
  }
  log.info('parsed rhel-vex snapshot', { feed: FEED, archive: display, ...stats });
}

/** Last-Modified of the archive from the fetch record; without a record, the date in its name. */
function archiveTime(rec: FetchRecord | null, archiveName: string, log: Logger): number {
  const fr = findFileRecord(rec, PART, archiveName);
  const file = `${PART}/${archiveName}`;
  if (fr) {
    const t = Date.parse(fr.lastModified);
    if (Number.isNaN(t)) throw feedError({ file }, `fetch record has no usable Last-Modified (${JSON.stringify(fr.lastModified)})`);
    return t;
  }
  if (rec) throw feedError({ file }, 'not in the fetch record: the last fetch did not finish; run fetch again');
  const t = archiveNameDate(archiveName);
  if (t === undefined) throw feedError({ file }, 'no fetch record and no date in the archive name');
  log.warn('no fetch record; taking the archive time from its name', { feed: FEED, archive: archiveName, time: new Date(t).toISOString() });
  return t;
}

async function readDelta(dir: string, since: number): Promise<Delta> {
  const delta: Delta = { changed: new Set(), loose: new Set(), deleted: new Set() };
  const changes = `${PART}/${CHANGES_FILE}`;
  for await (const row of readChangeRows(await present(dir, CHANGES_FILE), changes)) {
    const place = { file: changes, record: `line ${row.line}` };
    if (pathYear(row.path, place) < LOOK_BACK_TO_YEAR || row.time < since) continue;
    checkDocPath(row.path, place);
    delta.changed.add(goPathBase(row.path));
    delta.loose.add(row.path);
  }
  const deletions = `${PART}/${DELETIONS_FILE}`;
  for await (const row of readChangeRows(await present(dir, DELETIONS_FILE), deletions)) {
    if (row.time < since) continue;
    const id = deletedId(row.path);
    if (id === undefined) throw feedError({ file: deletions, record: `line ${row.line}` }, `path ${JSON.stringify(row.path)} does not name a CVE document`);
    delta.changed.add(goPathBase(row.path));
    delta.deleted.add(id);
  }
  return delta;
}

async function present(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await access(file).catch((err) => {
    throw feedError({ file: `${PART}/${name}` }, `missing from the mirror: ${(err as Error).message}`, err);
  });
  return file;
}

async function readLoose(file: string, display: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw feedError({ file: display }, `listed in ${CHANGES_FILE} but missing from the mirror; run fetch again`, err);
  }
}

/**
 * The records of one document: none when it is a deletion stub, yields nothing, or (for
 * loose documents) its CVE was deleted later. JSON, shape, CVE, CPE and purl errors are
 * FeedErrors naming `file` and the record.
 */
export function documentRecords(body: Buffer, file: string, opts: ConvertOptions, deleted?: ReadonlySet<string>): Vulnerability[] {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw feedError({ file }, `malformed JSON: ${(err as Error).message}`, err);
  }
  try {
    const result = convertDocument(decodeCsaf(raw), opts);
    if (result.deleted || deleted?.has(result.name)) return [];
    return result.records;
  } catch (err) {
    const name = idOf(raw);
    if (err instanceof CsafDecodeError) throw feedError({ file, record: name ? `${name} ${err.path}` : err.path }, `not a CSAF document: ${err.message}`, err);
    if (err instanceof HelperError) throw feedError({ file, record: `${name} product ${err.productId}` }, err.message, err);
    if (err instanceof DocumentError) throw feedError({ file, record: err.record }, err.message, err);
    throw err;
  }
}

function idOf(raw: unknown): string {
  const id = (raw as { document?: { tracking?: { id?: unknown } } } | null)?.document?.tracking?.id;
  return typeof id === 'string' ? id : '';
}
