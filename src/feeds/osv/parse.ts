import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log.js';
import type { Vulnerability } from '../../model/vulnerability.js';
import { findFileRecord, readFetchRecord } from '../fetch-record.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { OsvAbort, advisoryRecords } from './convert.js';
import { ECOSYSTEMS_FILE, FEED, PART, allowlistOption, dumpPath, feedError, selectEcosystems, type Ecosystem } from './ecosystems.js';
import { osvRules, type OsvRules } from './rules.js';
import { OsvDecodeError, decodeAdvisory, parseFirstJson } from './upstream.js';
import { readZip } from './zip.js';

/**
 * One updater per ecosystem dump in the mirror (`osv/<ecosystem>`), each zip read entry by
 * entry (claircore updater/osv Parse; spec clair-updaters.md §9). "Now" for the withdrawn
 * check is the time the dump was downloaded (from the fetch record), so a rebuild from the
 * same mirror gives the same rows.
 */
export async function* parseOsv(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rules = osvRules(ctx.options);
  const rec = await readFetchRecord(ctx.mirror, FEED);
  const dir = ctx.partDir(PART);
  const display = `${PART}/${ECOSYSTEMS_FILE}`;
  let text: string;
  try {
    text = await readFile(path.join(dir, ECOSYSTEMS_FILE), 'utf8');
  } catch (err) {
    throw feedError({ file: display }, `missing from the mirror; run fetch (${(err as Error).message})`, err);
  }
  for (const e of selectEcosystems(text, allowlistOption(ctx.options), display)) {
    const rel = dumpPath(e);
    const fr = findFileRecord(rec, PART, rel);
    if (!fr) throw feedError({ file: `${PART}/${rel}` }, 'not in the fetch record; run fetch with the same --option osv-ecosystems');
    const now = Date.parse(fr.fetchedAt);
    if (rules.goNpmEcosystemRange === 'abort' && (await abortsUpdate(path.join(dir, ...rel.split('/')), e, rules, now))) {
      // claircore v1.5.48 fails this updater's whole run: no update operation, the old rows stay.
      ctx.log.warn('claircore v1.5.48 cannot parse this dump (ECOSYSTEM range for Go/npm); updater left out', { feed: FEED, updater: `osv/${e.name}` });
      continue;
    }
    yield { type: 'vulnerability', updater: `osv/${e.name}`, records: dumpRecords(path.join(dir, ...rel.split('/')), e, rules, now, ctx.log) };
  }
}

/** The records of one dump, in zip entry order. */
export async function* dumpRecords(file: string, e: Ecosystem, rules: OsvRules, now: number, log: Logger): AsyncGenerator<Vulnerability> {
  const display = `${PART}/${dumpPath(e)}`;
  const stats = { advisories: 0, withdrawn: 0, unaffected: 0, records: 0 };
  for await (const entry of readZip(file, { displayName: display, feed: FEED })) {
    stats.advisories++;
    for (const v of entryRecords(entry.name, entry.body, e, rules, now, display)) {
      if (v === 'withdrawn' || v === 'unaffected') {
        stats[v]++;
        continue;
      }
      stats.records++;
      yield v;
    }
  }
  log.info('parsed OSV dump', { feed: FEED, file: display, updater: `osv/${e.name}`, ...stats });
}

/** One zip entry: its records, or why it has none. JSON and shape errors are FeedErrors naming the entry. */
export function entryRecords(
  name: string, body: Buffer, e: Ecosystem, rules: OsvRules, now: number, display: string,
): Array<Vulnerability | 'withdrawn' | 'unaffected'> {
  const place = { file: display, record: `entry ${name}` };
  let raw;
  try {
    raw = parseFirstJson(body.toString('utf8'));
  } catch (err) {
    throw feedError(place, `malformed JSON: ${(err as Error).message}`, err);
  }
  let a;
  try {
    a = decodeAdvisory(raw);
  } catch (err) {
    if (err instanceof OsvDecodeError) throw feedError({ ...place, record: `entry ${name}${err.path ? ' ' + err.path : ''}` }, err.message, err);
    throw err;
  }
  if (a.withdrawn !== '' && now > Date.parse(a.withdrawn)) return ['withdrawn'];
  if (a.affected.length === 0) return ['unaffected'];
  try {
    return advisoryRecords(a, { ecosystem: e.name, updater: `osv/${e.name}`, rules });
  } catch (err) {
    if (err instanceof OsvAbort) throw feedError({ ...place, record: `entry ${name} (${a.id})` }, err.message, err);
    throw err;
  }
}

/** True when claircore v1.5.48 would abort this dump's parse (a Go/npm ECOSYSTEM range). */
async function abortsUpdate(file: string, e: Ecosystem, rules: OsvRules, now: number): Promise<boolean> {
  const display = `${PART}/${dumpPath(e)}`;
  for await (const entry of readZip(file, { displayName: display, feed: FEED })) {
    try {
      entryRecords(entry.name, entry.body, e, rules, now, display);
    } catch (err) {
      if ((err as { cause?: unknown }).cause instanceof OsvAbort && /unexpected "ECOSYSTEM" entry/.test((err as Error).message)) return true;
      throw err;
    }
  }
  return false;
}
