import { access, open } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log.js';
import type { Distribution, NormalizedSeverity, Vulnerability } from '../../model/vulnerability.js';
import { JsonSyntaxError } from '../alpine/json-cursor.js';
import { readFetchRecord, type FetchRecord } from '../fetch-record.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { DISTS_PART, FEED, TRACKER_FILE, TRACKER_PART, feedError } from './fetch.js';
import { RELEASE_HEAD_BYTES, debianDist, releaseMajor, releasesOption, skipWord } from './releases.js';
import { TrackerShapeError, readTracker } from './tracker.js';

/**
 * The single updater `debian/updater` (claircore debian/parser.go): one row per (source package,
 * vulnerability id, release codename) of the tracker JSON, for the releases claircore's factory
 * registers from the recorded Release files; rows of other codenames (sid, unreleased, …) are
 * dropped. `--option debian-releases` narrows the releases.
 */
export const UPDATER = 'debian/updater';
export const LINK_PREFIX = 'https://security-tracker.debian.org/tracker/';

/** claircore debian/severity.go: Debian's urgency, one step up. */
export function normalizeSeverity(urgency: string): NormalizedSeverity {
  switch (goToLower(urgency)) {
    case 'unimportant': return 'Low';
    case 'low': return 'Medium';
    case 'medium': return 'High';
    case 'high': return 'Critical';
    default: return 'Unknown';
  }
}

/** Go strings.ToLower: per code point (no context rules; U+0130 → `i`). */
function goToLower(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s.toLowerCase() : [...s].map((c) => (c === '\u0130' ? 'i' : c.toLowerCase())).join('');
}

export async function* parseDebian(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  if (!rec) throw feedError({ file: `.fetch/${FEED}.json` }, 'no fetch record', undefined, `run \`clair-bundle fetch --source ${FEED}\``);
  const dists = await registeredDists(rec, ctx.partDir(DISTS_PART), releasesOption(ctx.options), ctx.log);
  if (!rec.files.some((f) => f.part === TRACKER_PART && f.path === TRACKER_FILE)) {
    throw feedError({ file: `${TRACKER_PART}/${TRACKER_FILE}` }, 'not in the fetch record: the last fetch did not finish; run fetch again');
  }
  const file = path.join(ctx.partDir(TRACKER_PART), ...TRACKER_FILE.split('/'));
  yield { type: 'vulnerability', updater: UPDATER, records: trackerRecords(file, `${TRACKER_PART}/${TRACKER_FILE}`, dists, ctx.log) };
}

/**
 * The releases claircore's factory would register from the recorded Release files: codename
 * not skipped by name, `Version:` in the first 513 bytes with a `.`, integer major.
 */
export async function registeredDists(rec: FetchRecord, distsDir: string, wanted: string[] | undefined, log: Logger): Promise<Map<string, Distribution>> {
  const out = new Map<string, Distribution>();
  const recorded = rec.files.filter((f) => f.part === DISTS_PART).map((f) => ({ f, m: /^debian\/dists\/([^/]+)\/Release$/.exec(f.path) }));
  if (wanted) {
    const known = new Set([...recorded.map((r) => r.m?.[1]), ...(rec.absent ?? []).filter((a) => a.part === DISTS_PART).map((a) => a.path.split('/')[2])]);
    for (const c of wanted) {
      if (!known.has(c) && !skipWord(c)) {
        throw feedError({ file: `${DISTS_PART}/debian/dists/${c}/Release` }, `release ${c} was not fetched into this mirror`, undefined,
          `run \`clair-bundle fetch --source ${FEED} --option debian-releases=…\` with this release`);
      }
    }
  }
  for (const { f, m } of recorded) {
    if (!m) continue;
    const codename = m[1];
    if (wanted && !wanted.includes(codename)) continue;
    const display = `${DISTS_PART}/${f.path}`;
    if (skipWord(codename)) {
      log.warn('release not registered: its name contains a word claircore skips', { feed: FEED, release: codename, word: skipWord(codename) });
      continue;
    }
    const v = releaseMajor(await readHead(path.join(distsDir, ...f.path.split('/')), display));
    if ('skip' in v) {
      log.info('release not registered', { feed: FEED, file: display, release: codename, reason: v.skip });
      continue;
    }
    out.set(codename, debianDist(codename, v.major));
  }
  if (out.size === 0) log.warn('no Debian release registered: every row will be dropped', { feed: FEED });
  else log.info('debian releases', { feed: FEED, releases: [...out.values()].map((d) => d.version) });
  return out;
}

async function readHead(file: string, display: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw feedError({ file: display }, 'listed in the fetch record but missing from the mirror; run fetch again', err);
  }
  try {
    const buf = Buffer.alloc(RELEASE_HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, RELEASE_HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The rows of the tracker JSON, streamed package by package. */
export async function* trackerRecords(file: string, display: string, dists: ReadonlyMap<string, Distribution>, log: Logger): AsyncGenerator<Vulnerability> {
  await access(file).catch((err) => {
    throw feedError({ file: display }, 'listed in the fetch record but missing from the mirror; run fetch again', err);
  });
  let packages = 0;
  let rows = 0;
  let dropped = 0;
  let current = 'document';
  try {
    for await (const pkg of readTracker(file, (name) => { current = `package ${name}`; })) {
      packages++;
      for (const v of pkg.vulnerabilities) {
        for (const r of v.releases) {
          const dist = dists.get(r.codename);
          if (!dist) {
            dropped++;
            continue;
          }
          rows++;
          yield {
            updater: UPDATER, name: v.id, description: v.description, issued: '', links: LINK_PREFIX + v.id,
            severity: r.urgency, normalizedSeverity: normalizeSeverity(r.urgency),
            package: { name: pkg.name, version: '', module: '', arch: '', kind: 'source' },
            dist, repo: null, fixedInVersion: r.fixedVersion, archOperation: 'invalid', range: null,
          };
        }
      }
    }
  } catch (err) {
    if (err instanceof TrackerShapeError) throw feedError({ file: display, record: err.record }, `not a security tracker document: ${err.message}`, err);
    if (err instanceof JsonSyntaxError) throw feedError({ file: display, record: current }, `malformed JSON: ${err.message}`, err);
    throw err;
  }
  log.info('parsed debian tracker', { feed: FEED, file: display, packages, rows, droppedReleases: dropped });
}
