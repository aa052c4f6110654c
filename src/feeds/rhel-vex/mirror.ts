import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse';
import { FeedError, feedErrors, type ErrorPlace } from '../../errors.js';

/**
 * The files of the VEX feed directory (spec clair-updaters.md §4.2) and the Go-compatible
 * string rules claircore's fetcher applies to them (path.Dir/Base, strconv.ParseInt,
 * time.Parse(RFC3339)). Shared by fetch (which documents to download) and parse (which
 * documents make up the snapshot).
 */
export const FEED = 'rhel-vex';
export const LATEST_FILE = 'archive_latest.txt';
export const CHANGES_FILE = 'changes.csv';
export const DELETIONS_FILE = 'deletions.csv';
/** claircore `lookBackToYear`: documents of earlier years are ignored (not for deletions). */
export const LOOK_BACK_TO_YEAR = 2015;

export const feedError = feedErrors(FEED);

/** One row of changes.csv or deletions.csv. */
export interface ChangeRow {
  /** Document path relative to the feed base, e.g. `2024/cve-2024-1234.json`. */
  path: string;
  /** Change time in ms since the epoch. */
  time: number;
  /** 1-based CSV record number. */
  line: number;
}

/** Rows of a two-column CSV, streamed; a wrong field count or bad time is a FeedError. */
export async function* readChangeRows(file: string, displayName: string): AsyncGenerator<ChangeRow> {
  const parser = createReadStream(file).pipe(parseCsv({ relax_column_count: true, skip_empty_lines: true }));
  let line = 0;
  try {
    for await (const rec of parser as AsyncIterable<string[]>) {
      line++;
      if (rec.length !== 2) throw feedError({ file: displayName, record: `line ${line}` }, `wrong number of fields: ${rec.length} != 2`);
      const time = parseRfc3339(rec[1]);
      if (time === undefined) throw feedError({ file: displayName, record: `line ${line}` }, `bad time ${JSON.stringify(rec[1])}`);
      yield { path: rec[0], time, line };
    }
  } catch (err) {
    if (err instanceof FeedError) throw err;
    throw feedError({ file: displayName, record: `line ${line + 1}` }, `unreadable CSV: ${(err as Error).message}`, err);
  } finally {
    parser.destroy();
  }
}

/** The year directory of a document path (strconv.ParseInt(path.Dir(p))), or a FeedError. */
export function pathYear(p: string, place: ErrorPlace): number {
  const dir = goPathDir(p);
  if (!/^[+-]?\d+$/.test(dir) || !Number.isSafeInteger(Number(dir))) {
    throw feedError(place, `error parsing year: ${JSON.stringify(dir)} is not an integer`);
  }
  return Number(dir);
}

/** The archive file name named by archive_latest.txt (whitespace trimmed). */
export async function readArchiveName(partDir: string): Promise<string> {
  const file = path.join(partDir, LATEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw feedError({ file: `${FEED}/${LATEST_FILE}` }, `missing from the mirror: ${(err as Error).message}`, err);
  }
  return checkArchiveName(text.trim(), `${FEED}/${LATEST_FILE}`);
}

/** A relative, non-escaping path (the archive is stored under it in the part directory). */
export function checkArchiveName(name: string, file: string): string {
  if (name === '' || name.startsWith('/') || name.includes('\\') || /^[a-z][a-z0-9+.-]*:/i.test(name) || name.split('/').some((s) => s === '..' || s === '.')) {
    throw feedError({ file }, `archive name ${JSON.stringify(name)} is not a plain relative path`);
  }
  return name;
}

/** A changes.csv document path must stay inside the feed directory. */
export function checkDocPath(p: string, place: ErrorPlace): void {
  if (p.startsWith('/') || p.includes('\\') || p.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw feedError(place, `document path ${JSON.stringify(p)} is not a plain relative path`);
  }
}

/** The date in an upstream archive name `csaf_vex_YYYY-MM-DD.tar.zst`, as ms, or undefined. */
export function archiveNameDate(name: string): number | undefined {
  const m = /(?:^|\/)csaf_vex_(\d{4}-\d{2}-\d{2})\.tar(?:\.\w+)?$/.exec(name);
  return m ? parseRfc3339(`${m[1]}T00:00:00Z`) : undefined;
}

/** `^\d{4}/(cve-\d{4}-\d{4,}).json$` → the uppercased CVE id of a deleted document. */
export function deletedId(p: string): string | undefined {
  const m = /^\d{4}\/(cve-\d{4}-\d{4,}).json$/.exec(p);
  return m ? m[1].toUpperCase() : undefined;
}

// ---- Go string rules ------------------------------------------------------------------

/** Go path.Base. */
export function goPathBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Go path.Dir: everything before the last slash, cleaned. */
export function goPathDir(p: string): string {
  const dir = p.slice(0, p.lastIndexOf('/') + 1);
  if (dir === '') return '.';
  const clean = path.posix.normalize(dir);
  return clean.length > 1 ? clean.replace(/\/$/, '') : clean;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Go time.Parse(time.RFC3339, s) as ms since the epoch (sub-ms digits dropped), or undefined. */
export function parseRfc3339(s: string): number | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +sec > 59) return undefined;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  let t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec, ms);
  if (+y < 100) t = new Date(t).setUTCFullYear(+y);
  if (zone !== 'Z') t -= (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000;
  return t;
}
