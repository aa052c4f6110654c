import { FeedError, describePlace } from '../../errors.js';
import { CpeError, unbindCpe } from '../../model/cpe.js';
import { readFetchRecord, type FetchRecord } from '../fetch-record.js';
import { ovalLinks, type OvalDefinition, type ProtoVulnerability } from '../oval/index.js';
import { rpmOvalOutputs, type RpmOvalUpdater } from '../oval/updaters.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { FEED, PART, YEARS_OPTION, fileYear, normalizeSeverity, ovalFile, platformDist, updaterName, yearsOption } from './upstream.js';

/**
 * claircore oracle Parse (spec clair-updaters.md §11): RPMDefsToVulns with one prototype per
 * known platform, after the userspace_ksplice filter. Builds the years `oracle-years` names,
 * or else every year the last fetch asked for (never "the current year" at build time, so the
 * same mirror always gives the same bundle).
 */
export async function* parseOracle(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  const years = yearsOption(ctx.options) ?? fetchedYears(rec);
  yield* rpmOvalOutputs(ctx, FEED, rec, years.map(yearUpdater), `run: clair-bundle fetch --source ${FEED} (with the same --option ${YEARS_OPTION})`);
}

/** Years the fetch record lists (downloaded or absent upstream), ascending. */
export function fetchedYears(rec: FetchRecord | null): number[] {
  if (!rec) {
    const place = { feed: FEED, file: `.fetch/${FEED}.json` };
    throw new FeedError(`${describePlace(place)}: no fetch record`, { place, hint: `run: clair-bundle fetch --source ${FEED}` });
  }
  const years = new Set<number>();
  for (const f of [...rec.files, ...(rec.absent ?? [])]) {
    const y = f.part === PART ? fileYear(f.path) : undefined;
    if (y !== undefined) years.add(y);
  }
  return [...years].sort((a, b) => a - b);
}

export function yearUpdater(year: number): RpmOvalUpdater {
  const updater = updaterName(year);
  return { updater, part: PART, relPath: ovalFile(year), compression: 'bzip2', protos: (def) => protos(def, updater) };
}

/** claircore oracle protoVulns: one record per known platform, unless every affected CPE is userspace_ksplice. */
export function protos(def: OvalDefinition, updater: string): ProtoVulnerability[] {
  const proto = {
    updater, name: def.title, description: def.description, issued: def.advisory.issued, links: ovalLinks(def),
    severity: def.advisory.severity, normalizedSeverity: normalizeSeverity(def.advisory.severity), repo: null, range: null,
  };
  const out: ProtoVulnerability[] = [];
  for (const a of def.affecteds) {
    for (const p of a.platforms) {
      const dist = platformDist(p);
      if (dist) out.push({ ...proto, dist });
    }
  }
  if (out.length === 0 || kspliceOnly(def.advisory.affectedCpeList)) return [];
  return out;
}

/**
 * True when there is at least one affected CPE and every one has the edition
 * `userspace_ksplice`. A CPE that does not unbind keeps the definition (claircore logs and
 * returns the records).
 */
export function kspliceOnly(cpes: readonly string[]): boolean {
  let ksplice = 0;
  for (const c of cpes) {
    let edition: string;
    try {
      edition = unbindCpe(c).attr[5].v;
    } catch (err) {
      if (err instanceof CpeError) return false;
      throw err;
    }
    if (edition === 'userspace_ksplice') ksplice++;
  }
  return ksplice > 0 && ksplice === cpes.length;
}
