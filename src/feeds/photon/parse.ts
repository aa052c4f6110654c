import type { Vulnerability } from '../../model/vulnerability.js';
import { readFetchRecord } from '../fetch-record.js';
import { ovalFileStatus, ovalLinks, type OvalDefinition, type ProtoVulnerability } from '../oval/index.js';
import { rpmOvalOutputs, type RpmOvalUpdater } from '../oval/updaters.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { FEED, PART, RELEASES, RELEASES_OPTION, normalizeSeverity, ovalFile, releaseDist, selectReleases, updaterName, type Release } from './upstream.js';

/**
 * claircore photon Parse: RPMDefsToVulns with one prototype per definition (spec
 * clair-updaters.md §12). Compression is claircore's `auto`, here by magic bytes. Builds the
 * releases `photon-releases` names, or else those the last fetch asked for.
 */
export async function* parsePhoton(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  // Without the option: the releases the last fetch asked for (it may have had the option).
  const releases = ctx.options[RELEASES_OPTION] !== undefined
    ? selectReleases(ctx.options)
    : RELEASES.filter((r) => ovalFileStatus(rec, PART, ovalFile(r)) !== 'missing');
  yield* rpmOvalOutputs(ctx, FEED, rec, releases.map(releaseUpdater), `run: clair-bundle fetch --source ${FEED} (with the same --option ${RELEASES_OPTION})`);
}

export function releaseUpdater(release: Release): RpmOvalUpdater {
  const updater = updaterName(release);
  const dist = releaseDist(release);
  return { updater, part: PART, relPath: ovalFile(release), protos: (def) => [proto(def, updater, dist)] };
}

export function proto(def: OvalDefinition, updater: string, dist: Vulnerability['dist']): ProtoVulnerability {
  return {
    updater, name: def.title, description: def.description, issued: def.advisory.issued, links: ovalLinks(def),
    severity: def.advisory.severity, normalizedSeverity: normalizeSeverity(def.advisory.severity), dist, repo: null, range: null,
  };
}
