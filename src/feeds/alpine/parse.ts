import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log.js';
import type { Distribution, Vulnerability } from '../../model/vulnerability.js';
import { readFetchRecord, type FetchRecord } from '../fetch-record.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { FEED, PART, feedError } from './fetch.js';
import { JsonSyntaxError } from './json-cursor.js';
import { REPOS, compareReleases, parseReleaseName, releaseDist, releaseName, releasesOption, updaterName, type Release, type Repo } from './release.js';
import { SecdbShapeError, readSecdb } from './secdb.js';

/**
 * One updater per secdb file the fetch record lists (claircore: one per file its factory found),
 * in release order, main before community; `--option alpine-releases` narrows the set. Rows
 * follow claircore alpine/parser.go: one per (package, fixed-in version, id), no filtering.
 */
export const LINK_PREFIX = 'https://security.alpinelinux.org/vuln/';

export interface SecdbFile {
  release: Release;
  repo: Repo;
  /** Part-relative path, `v3.20/main.json`. */
  path: string;
}

/** `<release>/<repo>.json` → the secdb file it is, else undefined. */
export function secdbFile(p: string): SecdbFile | undefined {
  const m = /^([^/]+)\/(main|community)\.json$/.exec(p);
  const release = m ? parseReleaseName(m[1]) : undefined;
  return m && release ? { release, repo: m[2] as Repo, path: p } : undefined;
}

export async function* parseAlpine(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  if (!rec) throw feedError({ file: `.fetch/${FEED}.json` }, 'no fetch record', undefined, `run \`clair-bundle fetch --source ${FEED}\``);
  for (const f of selectFiles(rec, releasesOption(ctx.options))) {
    const updater = updaterName(f.repo, f.release);
    yield { type: 'vulnerability', updater, records: secdbRecords(path.join(ctx.partDir(PART), ...f.path.split('/')), `${PART}/${f.path}`, updater, releaseDist(f.release), ctx.log) };
  }
}

/** The recorded secdb files, ordered; only the wanted releases when given (each must have been fetched). */
export function selectFiles(rec: FetchRecord, wanted: Release[] | undefined): SecdbFile[] {
  const files = rec.files.filter((f) => f.part === PART).map((f) => secdbFile(f.path)).filter((f): f is SecdbFile => f !== undefined);
  if (wanted) {
    const known = new Set([...files.map((f) => f.path), ...(rec.absent ?? []).filter((a) => a.part === PART).map((a) => a.path)]);
    for (const r of wanted) {
      if (!REPOS.some((repo) => known.has(`${releaseName(r)}/${repo}.json`))) {
        throw feedError({ file: `${PART}/${releaseName(r)}/` }, `release ${releaseName(r)} was not fetched into this mirror`, undefined,
          `run \`clair-bundle fetch --source ${FEED} --option alpine-releases=…\` with this release`);
      }
    }
  }
  const names = wanted ? new Set(wanted.map(releaseName)) : undefined;
  return files
    .filter((f) => !names || names.has(releaseName(f.release)))
    .sort((a, b) => compareReleases(a.release, b.release) || REPOS.indexOf(a.repo) - REPOS.indexOf(b.repo));
}

/** The rows of one secdb file, streamed; malformed JSON or shape is a FeedError naming file and record. */
export async function* secdbRecords(file: string, display: string, updater: string, dist: Distribution, log: Logger): AsyncGenerator<Vulnerability> {
  await access(file).catch((err) => {
    throw feedError({ file: display }, 'listed in the fetch record but missing from the mirror; run fetch again', err);
  });
  let packages = 0;
  let rows = 0;
  let last = 'document';
  try {
    for await (const pkg of readSecdb(file)) {
      packages++;
      last = `packages[${pkg.index}] (${pkg.name})`;
      for (const [fixedIn, ids] of pkg.secfixes) {
        for (const id of ids) {
          rows++;
          yield {
            updater, name: id, description: '', issued: '', links: LINK_PREFIX + id, severity: '',
            normalizedSeverity: 'Unknown',
            package: { name: pkg.name, version: '', module: '', arch: '', kind: 'source' },
            dist, repo: null, fixedInVersion: fixedIn, archOperation: 'invalid', range: null,
          };
        }
      }
    }
  } catch (err) {
    if (err instanceof SecdbShapeError) throw feedError({ file: display, record: err.record }, `not a secdb document: ${err.message}`, err);
    if (err instanceof JsonSyntaxError) throw feedError({ file: display, record: `after ${last}` }, `malformed JSON: ${err.message}`, err);
    throw err;
  }
  log.info('parsed alpine secdb', { feed: FEED, file: display, updater, packages, rows });
}
