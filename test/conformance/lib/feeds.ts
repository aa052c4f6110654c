import { existsSync } from 'node:fs';
import path from 'node:path';
import { feeds } from '../../../src/feeds/index.js';
import type { Feed } from '../../../src/feeds/types.js';
import { TARGETS } from '../../../src/version.js';

/** The fixture mirror conformance serves (as test/conformance/global-setup.ts resolves it). */
const CONFORMANCE_MIRROR = path.resolve(import.meta.dirname, '../../..', process.env.CONFORMANCE_MIRROR ?? '../shared/fixtures/feeds');

/**
 * How each clair-bundle feed maps onto the oracle and the fixture mirror: the claircore updater
 * set `oracle load --updater` runs (test/oracle/feeds.go), and, per feed part, the path of that
 * part's base URL inside the mirror (the same path feeds.go configures claircore with).
 */
export const ORACLE_FEEDS: Readonly<Record<string, { oracleSet: string; parts: Readonly<Record<string, string>> }>> = {
  'rhel-vex': { oracleSet: 'rhel-vex', parts: { 'rhel-vex': '/rhel-vex/csaf/v2/vex/' } },
  // alpine: claircore discovers releases by HEADing v3.3/, v3.4/, … (directory URLs); the mirror serves none, so
  // claircore (and clair-bundle's default fetch) find edge only, and edge/main + edge/community are compared.
  alpine: { oracleSet: 'alpine', parts: { alpine: '/alpine-secdb/' } },
  // debian: claircore's factory GETs deb.debian.org/debian/dists/ (a listing the fixtures lack: 404 fails its run),
  // and the shared tracker excerpt holds `"releases": []`, which claircore's decoder rejects; compared only with a listing.
  ...(existsSync(path.join(CONFORMANCE_MIRROR, 'deb.debian.org/debian/dists/index.html'))
    ? { debian: { oracleSet: 'debian', parts: { 'debian.tracker': '/debian-security-tracker/', 'debian.dists': '/deb.debian.org/' } } } : {}),
  // osv: claircore's factory GETs /ecosystems.txt at the server root (it replaces the URL's path), so
  // osv is compared only with a mirror holding that file; the shared fixtures have osv/ecosystems.txt only.
  ...(existsSync(path.join(CONFORMANCE_MIRROR, 'ecosystems.txt')) ? { osv: { oracleSet: 'osv', parts: { osv: '/osv/' } } } : {}),
  // ubuntu: not compared. claircore's factory needs <launchpad>/ubuntu/series (not in the fixtures) and HEADs
  // security-metadata.canonical.com for every active series (not configurable); see test/oracle/feeds.go.
  // suse: claircore's factory reads the directory page (the mirror's oval/index.html), which links SLES 15 only (Leap
  // 15.2 is below 15.5). The shared SLES 15 excerpt keeps its states under <state>, not <states>, so every criterion's
  // state lookup fails: both sides write the update operation with no rows.
  suse: { oracleSet: 'suse', parts: { suse: '/suse-oval/pub/projects/security/oval/' } },
  // photon: claircore asks for com.vmware.phsa-photon1..5.xml; the fixtures hold photon3 only. The others are absent
  // on both sides (clair-bundle records the 404s; the oracle leaves those updaters out), so photon-updater-3.0 is compared.
  photon: { oracleSet: 'photon', parts: { photon: '/photon-oval/photon/photon_oval_definitions/' } },
  // oracle: claircore asks for com.oracle.elsa-<2007..this year>.xml.bz2; the shared fixtures hold none of them (only
  // the com.oracle.elsa-all excerpt, which no registered updater reads), so oracle is compared only with a mirror
  // holding at least one yearly file (years it lacks are left out on both sides, as for photon).
  ...(Array.from({ length: new Date().getFullYear() - 2006 }, (_, i) => 2007 + i)
    .some((y) => existsSync(path.join(CONFORMANCE_MIRROR, `oracle-oval/security/oval/com.oracle.elsa-${y}.xml.bz2`)))
    ? { oracle: { oracleSet: 'oracle', parts: { oracle: '/oracle-oval/security/oval/' } } } : {}),
  // aws: both upstream hosts are the fixtures' aws-alas/ (the oracle rewrites claircore's constant URLs there). A
  // release whose mirror list the mirror lacks (AL1, AL2 in the shared fixtures) has no updater on either side.
  aws: { oracleSet: 'aws', parts: { 'aws.cdn': '/aws-alas/', 'aws.al1': '/aws-alas/' } },
  // epss: claircore's url setting names the file (feeds.go); the shared fixtures' only .gz is 2023-03-07.
  epss: { oracleSet: 'clair.epss', parts: { epss: '/epss/epss_scores-2023-03-07.csv.gz' } },
  kev: { oracleSet: 'clair.kev', parts: { kev: '/cisa-kev/' } },
  // cvss: claircore fetches every NVD year from 2002 to the current one and fails on any it cannot get; compared
  // only with a mirror holding all of them (the shared fixtures have 2021 only).
  ...(Array.from({ length: new Date().getFullYear() - 2001 }, (_, i) => 2002 + i)
    .every((y) => existsSync(path.join(CONFORMANCE_MIRROR, `nvd/feeds/json/cve/2.0/nvdcve-2.0-${y}.json.gz`)))
    ? { cvss: { oracleSet: 'clair.cvss', parts: { cvss: '/nvd/feeds/json/cve/2.0/' } } } : {}),
};

/**
 * claircore targets a feed's rules support. A feed declares them with an optional
 * `targets: readonly Target[]` property; without one, only the default target (TARGETS[0]) is
 * assumed, because that is what every feed is written against first.
 */
export function feedTargets(feed: Feed): readonly string[] {
  const declared = (feed as Feed & { targets?: readonly string[] }).targets;
  return declared ?? [TARGETS[0]];
}

export type FeedPlan =
  | { feed: Feed; compare: true; oracleSet: string; parts: Readonly<Record<string, string>> }
  | { feed: Feed; compare: false; reason: string; unsupportedTarget?: boolean };

/** Every registered feed, with what the conformance run does with it for `target`. */
export function planFeeds(target: string): FeedPlan[] {
  return feeds.map((feed): FeedPlan => {
    const m = ORACLE_FEEDS[feed.id];
    if (!m) return { feed, compare: false, reason: `${feed.id} has no oracle updater set / fixture mapping (test/conformance/lib/feeds.ts, test/oracle/feeds.go)` };
    const missing = Object.keys(feed.parts).filter((p) => !(p in m.parts));
    if (missing.length) return { feed, compare: false, reason: `${feed.id}: no fixture path for part(s) ${missing.join(', ')}` };
    const targets = feedTargets(feed);
    if (!targets.includes(target)) {
      return { feed, compare: false, reason: `${feed.id} has no ${target.replace(/^claircore-/, '')} rules yet (it declares ${targets.join(', ')})`, unsupportedTarget: true };
    }
    return { feed, compare: true, oracleSet: m.oracleSet, parts: m.parts };
  });
}
