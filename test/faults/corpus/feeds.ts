import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fetchFeeds } from '../../../src/build.js';
import { silentLogger } from '../../../src/log.js';
import { DEFAULT_FEEDS_DIR, startFeedServer, type FeedServer } from '../../helpers/feed-server.js';

/**
 * The corpus's starting point: every source fetched, as `clair-bundle fetch` does, from a local
 * server over the shared real fixture files (/work/shared/fixtures/feeds) into one mirror per
 * source. The bad inputs are derived from the files of these mirrors.
 */
const REPO = path.resolve(import.meta.dirname, '../../..');
const FIXTURES = path.join(REPO, 'test', 'fixtures');

export interface FeedSetup {
  source: string;
  urls: (base: { shared: string; local: string }) => Record<string, string>;
  options?: Record<string, string>;
}

export const SETUPS: FeedSetup[] = [
  { source: 'rhel-vex', urls: (b) => ({ 'rhel-vex': `${b.shared}/rhel-vex/csaf/v2/vex/` }) },
  { source: 'rhel-mappings', urls: (b) => ({ 'rhel-mappings': `${b.shared}/rhel-metrics/data/metrics/` }) },
  { source: 'alpine', urls: (b) => ({ alpine: `${b.shared}/alpine-secdb/` }), options: { 'alpine-releases': 'v3.20' } },
  // The shared tracker excerpt holds a record claircore cannot decode; the repo's derived copy without it.
  { source: 'debian', urls: (b) => ({ 'debian.tracker': `${b.local}/debian-security-tracker/`, 'debian.dists': `${b.shared}/deb.debian.org/` }), options: { 'debian-releases': 'bookworm' } },
  { source: 'ubuntu', urls: (b) => ({ 'ubuntu.launchpad': `${b.local}/launchpad/`, 'ubuntu.oval': `${b.shared}/ubuntu-oval/` }) },
  { source: 'osv', urls: (b) => ({ osv: `${b.shared}/osv/` }), options: { 'osv-ecosystems': 'npm,go' } },
  { source: 'oracle', urls: (b) => ({ oracle: `${b.local}/oracle/security/oval/` }), options: { 'oracle-years': '2018' } },
  { source: 'photon', urls: (b) => ({ photon: `${b.shared}/photon-oval/photon/photon_oval_definitions/` }), options: { 'photon-releases': '3.0' } },
  { source: 'aws', urls: (b) => ({ 'aws.cdn': `${b.shared}/aws-alas/`, 'aws.al1': `${b.shared}/aws-alas/` }) },
  { source: 'cvss', urls: (b) => ({ cvss: `${b.shared}/nvd/feeds/json/cve/2.0/` }), options: { 'cvss-years': '2021' } },
  { source: 'epss', urls: (b) => ({ epss: `${b.shared}/epss/epss_scores-2023-03-07.csv.gz` }) },
  { source: 'kev', urls: (b) => ({ kev: `${b.shared}/cisa-kev/` }) },
];

export interface Mirrors {
  /** source → mirror directory holding only that source. */
  dirs: Record<string, string>;
  close(): Promise<void>;
}

export async function fetchMirrors(): Promise<Mirrors> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-corpus-'));
  // Files the shared fixtures hold under other names (documented in test/fixtures/*/README.md).
  const local = path.join(work, 'local');
  const put = async (from: string, to: string) => {
    await mkdir(path.dirname(path.join(local, to)), { recursive: true });
    await copyFile(from, path.join(local, to));
  };
  await put(path.join(FIXTURES, 'debian', 'tracker-without-chromium-browser.json'), 'debian-security-tracker/tracker/data/json');
  await put(path.join(FIXTURES, 'ubuntu', 'launchpad', 'ubuntu', 'series'), 'launchpad/ubuntu/series');
  await put(path.join(FIXTURES, 'oracle', 'com.oracle.elsa-2018.xml.bz2'), 'oracle/security/oval/com.oracle.elsa-2018.xml.bz2');
  const servers: FeedServer[] = [
    await startFeedServer({ lastModified: { '/rhel-vex/csaf/v2/vex/csaf_vex_2023-11-16.tar.zst': new Date('2023-11-16T00:00:00Z') } }),
    await startFeedServer({ root: local }),
  ];
  const base = { shared: servers[0].url, local: servers[1].url };
  const dirs: Record<string, string> = {};
  try {
    for (const s of SETUPS) {
      const mirror = path.join(work, 'mirrors', s.source);
      await fetchFeeds({ mirror, sources: [s.source], urls: s.urls(base), options: s.options, log: silentLogger });
      dirs[s.source] = mirror;
    }
  } finally {
    for (const srv of servers) await srv.close();
  }
  return { dirs, close: async () => undefined };
}

export const DEFAULT_FIXTURES = DEFAULT_FEEDS_DIR;
