import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log.js';
import type { NormalizedSeverity, Vulnerability } from '../../model/vulnerability.js';
import { readFetchRecord, type FetchRecord } from '../fetch-record.js';
import {
  dpkgDefinitionRecords, ovalLinks, readOvalFileDefinitions, readOvalFileTables, type OvalDefinition, type OvalSource,
  type OvalTables, type ProtoVulnerability,
} from '../oval/index.js';
import type { FeedOutput, ParseContext } from '../types.js';
import {
  FEED, LAUNCHPAD_PART, OVAL_PART, SERIES_FILE, decodeSeries, feedError, ovalPath, releasesOption, selectSeries, seriesDist,
  updaterName, type Series,
} from './upstream.js';

/**
 * One updater per selected series with an OVAL file in the mirror (`ubuntu/updater/<name>`),
 * each read in two streaming passes (claircore ubuntu/updater.go Parse + ovalutil
 * DpkgDefsToVulns; spec clair-updaters.md §8). Series whose OVAL upstream did not publish
 * (404 at fetch time) are skipped, as claircore's factory skips them.
 */
export async function* parseUbuntu(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  const display = `${LAUNCHPAD_PART}/${SERIES_FILE}`;
  let text: string;
  try {
    text = await readFile(path.join(ctx.partDir(LAUNCHPAD_PART), ...SERIES_FILE.split('/')), 'utf8');
  } catch (err) {
    throw feedError({ file: display }, `missing from the mirror; run fetch (${(err as Error).message})`, err);
  }
  const all = decodeSeries(text, display);
  for (const s of selectSeries(all, releasesOption(ctx.options), display)) {
    const file = ovalFile(rec, s.name);
    if (file === 'absent') {
      ctx.log.info('no OVAL published upstream for series; no updater', { feed: FEED, release: s.name });
      continue;
    }
    if (file === undefined) {
      throw feedError({ file: `${OVAL_PART}/${ovalPath(s.name, true)}` }, `OVAL of ${s.name} was not fetched; run fetch with the same --option ubuntu-releases`);
    }
    // claircore keys distributions by version: the first series entry with this version wins.
    const dist = seriesDist(all.find((e) => e.version === s.version) ?? s);
    const src: OvalSource = { path: path.join(ctx.partDir(OVAL_PART), ...file.split('/')), display: `${OVAL_PART}/${file}`, feed: FEED };
    yield { type: 'vulnerability', updater: updaterName(s.name), records: releaseRecords(src, s, dist, ctx.log) };
  }
}

/** The mirror path of a release's OVAL file, 'absent' when upstream had none, undefined when never fetched. */
function ovalFile(rec: FetchRecord | null, name: string): string | 'absent' | undefined {
  for (const p of [ovalPath(name, true), ovalPath(name, false)]) {
    if (rec?.files.some((f) => f.part === OVAL_PART && f.path === p)) return p;
  }
  if (rec?.absent?.some((a) => a.part === OVAL_PART && a.path === ovalPath(name, false))) return 'absent';
  return undefined;
}

/** The records of one series' OVAL document. */
export async function* releaseRecords(src: OvalSource, series: Series, dist: Vulnerability['dist'], log: Logger): AsyncGenerator<Vulnerability> {
  const tables = await readOvalFileTables(src);
  const updater = updaterName(series.name);
  let definitions = 0;
  let records = 0;
  for await (const def of readOvalFileDefinitions(src)) {
    definitions++;
    for (const v of definitionRecords(def, tables, updater, dist)) {
      records++;
      yield v;
    }
  }
  log.info('parsed ubuntu OVAL', { feed: FEED, file: src.display, updater, definitions, records });
}

/** claircore ubuntu protoVulns + DpkgDefsToVulns for one definition. */
export function definitionRecords(def: OvalDefinition, tables: OvalTables, updater: string, dist: Vulnerability['dist']): Generator<Vulnerability> {
  const proto: ProtoVulnerability = {
    updater, name: def.title, description: def.description, issued: def.advisory.issued, links: ovalLinks(def),
    severity: '', normalizedSeverity: normalizeSeverity(def.advisory.severity), dist, repo: null, range: null,
  };
  return dpkgDefinitionRecords(def, tables, [proto], (name) => {
    if (name.varRef === '') return [name.body];
    // An unknown variable yields no names (claircore logs and moves on).
    return tables.variables.get(name.varRef) ?? [];
  });
}

/** claircore ubuntu normalizeSeverity: exact names only. */
export function normalizeSeverity(s: string): NormalizedSeverity {
  return s === 'Negligible' || s === 'Low' || s === 'Medium' || s === 'High' || s === 'Critical' ? s : 'Unknown';
}
