import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Vulnerability } from '../../model/vulnerability.js';
import { readFetchRecord } from '../fetch-record.js';
import { ovalFileStatus, ovalLinks, type OvalDefinition, type ProtoVulnerability } from '../oval/index.js';
import { rpmOvalOutputs, type RpmOvalUpdater } from '../oval/updaters.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { FEED, INDEX_FILE, PART, RELEASES_OPTION, discoverReleases, feedError, normalizeSeverity, selectReleases, type SuseRelease } from './upstream.js';

/**
 * claircore suse Parse (spec clair-updaters.md §10): the updaters the mirrored directory page
 * links to, each RPMDefsToVulns over its gzip OVAL file with one prototype per definition
 * (no Issued). Builds the updaters `suse-releases` names, or else those the last fetch asked for.
 */
export async function* parseSuse(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  const display = `${PART}/${INDEX_FILE}`;
  let html: string;
  try {
    html = await readFile(path.join(ctx.partDir(PART), INDEX_FILE), 'utf8');
  } catch (err) {
    throw feedError({ file: display }, `missing from the mirror (${(err as Error).message})`, err, `run: clair-bundle fetch --source ${FEED}`);
  }
  const base = rec?.baseUrls[PART];
  if (!base) throw feedError({ file: `.fetch/${FEED}.json` }, 'no base URL recorded for the suse part', undefined, `run: clair-bundle fetch --source ${FEED}`);
  const discovered = discoverReleases(html, base, display);
  // Without the option: the linked updaters the last fetch asked for (it may have had the option).
  const releases = ctx.options[RELEASES_OPTION] !== undefined
    ? selectReleases(discovered, ctx.options, display)
    : discovered.filter((r) => ovalFileStatus(rec, PART, r.relPath) !== 'missing');
  yield* rpmOvalOutputs(ctx, FEED, rec, releases.map(releaseUpdater), `run: clair-bundle fetch --source ${FEED} (with the same --option ${RELEASES_OPTION})`);
}

export function releaseUpdater(r: SuseRelease): RpmOvalUpdater {
  return { updater: r.updater, part: PART, relPath: r.relPath, compression: 'gzip', protos: (def) => [proto(def, r.updater, r.dist)] };
}

export function proto(def: OvalDefinition, updater: string, dist: Vulnerability['dist']): ProtoVulnerability {
  return {
    updater, name: def.title, description: def.description, issued: '', links: ovalLinks(def),
    severity: def.advisory.severity, normalizedSeverity: normalizeSeverity(def.advisory.severity), dist, repo: null, range: null,
  };
}
