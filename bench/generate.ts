/**
 * Synthetic bundle generator for `npm run bench`.
 *
 * Rows stream straight into the real bundle writer (`writeBundle`) as async generators; nothing
 * is held in memory beyond one CVE's shared fields. Every value is a pure function of
 * (GENERATOR_VERSION, seed, position), so a size always yields the same bundle, and the
 * "changed" variant differs only in the rows its own seed picks.
 *
 * Shapes are taken from what our rhel-vex feed builds from samples/mirror (1432 rows, 17 CVEs):
 *   description 122–767 chars (median 146, mean 233) · links 5–11 URLs, 274–602 chars (mean 426)
 *   package_name 3–54 chars (mean 22.5) · repo_name = a Red Hat repository CPE 2.3 (36–78 chars)
 *   package_arch from the observed `|`-joined strings · kind/invert/arch-op/version-kind mix:
 *   binary 87 % (f 63 %, t 25 %), source 6 %, ancestry (containers, rhctag range) 5 %
 *   aliases per row: CVE + RHBZ + self (https://access.redhat.com/security/cve/) = 3
 *   rows per CVE: median 18, max 659 in the sample; here log-normal, median 30, mean ≈ 180.
 * The other updaters follow claircore's row shapes per ecosystem (clair-matcher-db.md §4.1,
 * src/feeds/alpine, test/helpers/records.ts); together they are 1.1 % of the rows (rhel-vex is
 * ~8.9 M of 9 M), and clair.cvss-like enrichments are rows / 30 (300 k at 9 M).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBundle, type SourcedOutput } from '../bundle/write.js';
import type { Manifest } from '../bundle/manifest.js';
import { createLogger, type Logger } from '../log.js';
import { MAX_INT32, version } from '../model/version.js';
import type {
  Alias, Distribution, EnrichmentRecord, NormalizedSeverity, PackageKind, Range, Vulnerability,
} from '../model/vulnerability.js';

/** Bump whenever generated content changes: it is part of the cache key. */
export const GENERATOR_VERSION = 1;
/**
 * Bumped when the same generated rows are written differently (2: no range written as `empty`,
 * as Clair stores it; 3: row keys, keys/*.csv): a new cache directory, same seeds, same rows.
 */
export const BUNDLE_REVISION = 3;

export const RHEL_SHARE = 0.989;
export const ENRICHMENT_DIVISOR = 30;
/** Fraction of rhel-vex rows the "changed" variant alters. */
export const CHANGE_FRACTION = 0.01;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

function seedOf(...parts: (string | number)[]): number {
  return createHash('md5').update(parts.join('\u0000')).digest().readUInt32LE(0);
}

/** mulberry32 */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  weighted<T>(xs: readonly (readonly [T, number])[]): T {
    const total = xs.reduce((n, [, w]) => n + w, 0);
    let r = this.next() * total;
    for (const [x, w] of xs) {
      if ((r -= w) < 0) return x;
    }
    return xs[xs.length - 1][0];
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += Math.floor(this.next() * 16).toString(16);
    return s;
  }
}

/** A uniform [0,1) value that depends only on (seed, i): decides which rows a variant changes. */
function unit(seed: number, i: number): number {
  let h = (seed ^ Math.imul(i, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary (real names from the sample's rows, plus synthetic stems for variety)

const REAL_STEMS = [
  'postgresql', 'libtiff', 'cargo', 'cri-o', 'compat-openssl11', 'rust', 'nodejs', 'openssl', 'kernel',
  'glibc', 'curl', 'python3.11', 'httpd', 'nginx', 'sqlite', 'libxml2', 'gnutls', 'systemd', 'bind',
  'eap7-activemq-artemis', 'eap7-hibernate', 'eap7-jackson-databind', 'eap7-netty', 'eap7-apache-cxf',
  'golang', 'java-17-openjdk', 'java-21-openjdk', 'ruby', 'perl', 'php', 'qemu-kvm', 'libvirt', 'podman',
  'buildah', 'skopeo', 'containernetworking-plugins', 'grafana', 'tomcat', 'mod_http2', 'expat', 'zlib',
  'libssh', 'krb5', 'samba', 'firefox', 'thunderbird', 'webkit2gtk3', 'ghostscript', 'ImageMagick',
  'poppler', 'freetype', 'harfbuzz', 'vim', 'emacs', 'git', 'subversion', 'rsync', 'sudo', 'shadow-utils',
  'pam', 'openssh', 'dnsmasq', 'unbound', 'haproxy', 'squid', 'redis', 'mariadb', 'mysql', 'keycloak',
  'rh-sso7-keycloak', 'quarkus', 'undertow', 'wildfly-elytron', 'resteasy', 'infinispan', 'python-urllib3',
  'python-requests', 'python-jinja2', 'python-pillow', 'nodejs-undici', 'nodejs-axios', 'yarnpkg',
];
const SYLLABLES = ['lib', 'ko', 'ra', 'tex', 'mon', 'pak', 'zu', 'net', 'vi', 'dra', 'sel', 'por', 'qui', 'fan', 'cor', 'ly', 'mux', 'gen', 'tor', 'ash', 'bel', 'ix', 'on', 'da', 'ste'];
const BIN_SUFFIXES = ['', '-devel', '-libs', '-debuginfo', '-debugsource', '-doc', '-tools', '-static', '-common', '-server', '-client', '-utils', '-plugins', '-docs', '-javadoc', '-test'];
const BIN_PREFIXES = ['', '', '', 'python3-', 'perl-', 'rubygem-', 'golang-', 'nodejs-', 'rust-', 'eap7-', 'jws6-', 'rh-nodejs18-'];
const CONTAINER_NS = ['openshift4', 'rhel9', 'ubi9', 'rhacm2', 'openshift-logging', 'rh-sso-7', 'jboss-eap-7', 'devspaces', 'cryostat-tech-preview', 'odf4', 'multicluster-engine', 'openshift-serverless-1', 'rhtas', 'ansible-automation-platform-24'];
const ARCHES: readonly (readonly [string, number])[] = [
  ['aarch64|ppc64le|s390x|amd64|x86_64', 362], ['noarch', 339], ['amd64|x86_64', 203], ['noarch|src', 151],
  ['aarch64|i686|ppc64le|s390x|amd64|x86_64', 41], ['aarch64|ppc64le|s390x|src|amd64|x86_64', 38],
  ['ppc64le|s390x|amd64|x86_64|ppc64le|s390x|amd64|x86_64', 29], ['aarch64|i686|ppc64le|s390x|src|amd64|x86_64', 20],
  ['amd64|x86_64|amd64|x86_64', 18], ['i686|amd64|x86_64', 12], ['aarch64|amd64|x86_64', 10], ['src', 8],
];
const MODULES = ['nodejs:22', 'nodejs:20', 'rust-toolset:rhel8', 'postgresql:12', 'postgresql:15', 'ruby:3.1', 'php:8.1', 'nginx:1.22', 'mariadb:10.5', 'container-tools:rhel8', 'perl:5.32', 'parfait:0.5'];
const WORDS = (
  'a flaw was found in the component where an attacker could exploit improper validation of input data ' +
  'leading to a denial of service memory corruption buffer overflow heap use after free out of bounds read write ' +
  'remote unauthenticated local privileged user crafted request file packet certificate header cookie may cause ' +
  'application crash arbitrary code execution information disclosure integrity availability confidentiality impact ' +
  'when processing parsing handling specially malformed archive image document message response server client library'
).split(' ');
const CVSS: readonly (readonly [string, NormalizedSeverity])[] = [
  ['CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', 'High'], ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', 'High'],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'Critical'], ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H', 'Medium'],
  ['CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H', 'Medium'], ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H', 'Medium'],
  ['CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H', 'Low'], ['CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 'Low'],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 'Medium'], ['', 'Unknown'],
];
const CVSS_WEIGHTS = [30, 20, 8, 12, 8, 6, 5, 4, 6, 1];

/** Red Hat repository CPEs (repo_name of rhel-vex rows): products × versions × streams. */
function repoCpes(): string[] {
  const out: string[] = [];
  const a = (product: string, ver: string, stream: string, part = 'a') => out.push(`cpe:2.3:${part}:redhat:${product}:${ver}:*:${stream}:*:*:*:*:*`);
  for (const v of ['7', '8', '9', '10']) {
    for (const s of ['appstream', 'baseos', 'crb', 'highavailability', 'resilientstorage', 'sap', 'sap_hana', 'nfv', 'realtime', 'supplementary']) a('enterprise_linux', v, s);
    out.push(`cpe:2.3:o:redhat:enterprise_linux:${v}:*:*:*:*:*:*:*`);
  }
  for (const p of ['rhel_eus', 'rhel_e4s', 'rhel_aus', 'rhel_tus']) {
    for (const v of ['8.2', '8.4', '8.6', '8.8', '9.0', '9.2', '9.4', '9.6']) for (const s of ['appstream', 'baseos', 'crb', 'sap', 'highavailability']) a(p, v, s);
  }
  for (const p of ['jboss_enterprise_application_platform', 'jboss_enterprise_application_platform_eus', 'jboss_enterprise_web_server', 'red_hat_single_sign_on', 'rhel_software_collections', 'logging', 'openshift', 'ocp_tools', 'migration_toolkit_applications', 'openshift_container_platform', 'rhel_dotnet', 'satellite', 'ansible_automation_platform', 'quay', 'service_mesh', 'openshift_data_foundation', 'acm', 'multicluster_engine']) {
    for (const v of ['1', '2', '2.4', '3', '4.6', '4.8', '4.12', '4.14', '4.16', '5.9', '6', '7.4', '8.0']) for (const s of ['el7', 'el8', 'el9']) a(p, v, s);
    out.push(`cpe:2.3:a:redhat:${p}:4:*:*:*:*:*:*:*`);
  }
  return out;
}
const REPO_CPES = repoCpes();

function syntheticStem(rng: Rng): string {
  let s = '';
  const n = rng.int(2, 4);
  for (let i = 0; i < n; i++) s += rng.pick(SYLLABLES);
  return s;
}

function stemFor(rng: Rng): string {
  return rng.next() < 0.4 ? rng.pick(REAL_STEMS) : syntheticStem(rng);
}

function text(rng: Rng, len: number): string {
  let s = rng.pick(['A flaw was found in', 'An issue was discovered in', 'A vulnerability was found in', 'A memory leak flaw was found in']);
  while (s.length < len) s += ' ' + rng.pick(WORDS);
  return s.slice(0, len).trimEnd() + '.';
}

function normalizedFromCvss(vector: string, sev: NormalizedSeverity): NormalizedSeverity {
  return vector === '' ? 'Unknown' : sev;
}

// ---------------------------------------------------------------------------------------------
// rhel-vex

interface CveShared {
  name: string;
  cveId: string;
  description: string;
  issued: string;
  links: string;
  severity: string;
  normalizedSeverity: NormalizedSeverity;
  self: Alias;
  aliases: Alias[];
}

function cveShared(rng: Rng, cveNumber: number): CveShared {
  const year = rng.weighted([[2002 + rng.int(0, 14), 10], [2017 + rng.int(0, 5), 30], [2023 + rng.int(0, 2), 60]] as const);
  const cveId = `CVE-${year}-${cveNumber}`;
  const bz = String(rng.int(1_500_000, 2_400_000));
  const links = [
    `https://access.redhat.com/security/cve/${cveId}`,
    `https://bugzilla.redhat.com/show_bug.cgi?id=${bz}`,
    `https://www.cve.org/CVERecord?id=${cveId}`,
    `https://nvd.nist.gov/vuln/detail/${cveId}`,
    `https://security.access.redhat.com/data/csaf/v2/vex/${year}/${cveId.toLowerCase()}.json`,
  ];
  const extra = rng.weighted([[0, 8], [1, 20], [2, 25], [3, 25], [4, 10], [5, 7], [6, 5]] as const);
  for (let i = 0; i < extra; i++) {
    links.push(rng.next() < 0.7
      ? `https://access.redhat.com/errata/RHSA-${year}:${rng.int(1000, 9999)}`
      : `https://github.com/${syntheticStem(rng)}/${syntheticStem(rng)}/commit/${rng.hex(40)}`);
  }
  const [vector, sev] = CVSS[rng.weighted(CVSS_WEIGHTS.map((w, i) => [i, w] as const))];
  const month = String(rng.int(1, 12)).padStart(2, '0');
  const day = String(rng.int(1, 28)).padStart(2, '0');
  const descLen = Math.round(Math.min(1500, Math.max(60, rng.logNormal(175, 0.55))));
  const aliases: Alias[] = [{ space: 'CVE', name: cveId.slice(4) }, { space: 'RHBZ', name: bz }];
  if (rng.next() < 0.02) aliases.push({ space: 'GO', name: `${year}-${rng.int(1000, 3999)}` });
  return {
    name: cveId, cveId, description: text(rng, descLen),
    issued: rng.next() < 0.9 ? `${year}-${month}-${day}T00:00:00Z` : `${year}-${month}-${day}T${String(rng.int(0, 23)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}:00Z`,
    links: links.join(' '), severity: vector, normalizedSeverity: normalizedFromCvss(vector, sev),
    self: { space: 'https://access.redhat.com/security/cve/', name: cveId }, aliases,
  };
}

type RowShape = readonly [kind: PackageKind, invert: boolean, archOp: 'pattern match' | 'invalid', rhctag: boolean];
const SHAPES: readonly (readonly [RowShape, number])[] = [
  [['binary', false, 'pattern match', false], 876], [['binary', true, 'pattern match', false], 354],
  [['source', false, 'invalid', false], 85], [['ancestry', true, 'pattern match', true], 56],
  [['binary', false, 'pattern match', true], 29], [['ancestry', true, 'invalid', true], 18],
  [['binary', true, 'invalid', false], 10], [['source', false, 'invalid', true], 4],
];

function evr(rng: Rng, repo: string, module: string): string {
  const el = /enterprise_linux:(\d+)|rhel_\w+:(\d+)|:el(\d+):/.exec(repo);
  const major = el?.[1] ?? el?.[2] ?? el?.[3] ?? String(rng.int(7, 9));
  const v = `${rng.int(0, 30)}.${rng.int(0, 20)}${rng.next() < 0.5 ? '.' + rng.int(0, 40) : ''}`;
  if (module) return `0:${v}-${rng.int(1, 9)}.module+el${major}.${rng.int(0, 10)}.0+${rng.int(10000, 30000)}+${rng.hex(8)}`;
  const epoch = rng.next() < 0.9 ? '0' : String(rng.int(1, 3));
  return `${epoch}:${v}-${rng.int(1, 60)}.el${major}${rng.next() < 0.4 ? '_' + rng.int(1, 10) : ''}`;
}

const RHCTAG_ALL: Range = { lower: version('rhctag', [0]), upper: version('rhctag', [MAX_INT32]) };

async function* rhelVex(seed: number, rows: number, change: { seed: number; fraction: number } | null): AsyncGenerator<Vulnerability> {
  let emitted = 0;
  for (let cve = 0; emitted < rows; cve++) {
    const rng = new Rng(seedOf(GENERATOR_VERSION, seed, 'rhel-vex', cve));
    const shared = cveShared(rng, 1000 + cve);
    const n = Math.min(rows - emitted, Math.max(1, Math.min(20_000, Math.round(rng.logNormal(30, 1.9)))));
    const nRepos = Math.max(1, Math.min(REPO_CPES.length, Math.round(Math.pow(n, 0.55))));
    const nPkgs = Math.ceil(n / nRepos);
    const stem = stemFor(rng);
    const prefix = rng.pick(BIN_PREFIXES);
    const repoStart = rng.int(0, REPO_CPES.length - 1);
    const module = rng.next() < 0.03 ? rng.pick(MODULES) : '';
    const containerNs = rng.pick(CONTAINER_NS);
    for (let j = 0; j < n; j++, emitted++) {
      const p = j % nPkgs;
      const repo = REPO_CPES[(repoStart + Math.floor(j / nPkgs) * 13) % REPO_CPES.length];
      const [kind, invert, archOp, rhctag] = rng.weighted(SHAPES);
      const suffix = BIN_SUFFIXES[p % BIN_SUFFIXES.length] + (p >= BIN_SUFFIXES.length ? `-${SYLLABLES[Math.floor(p / BIN_SUFFIXES.length) % SYLLABLES.length]}${Math.floor(p / (BIN_SUFFIXES.length * SYLLABLES.length)) || ''}` : '');
      const name = kind === 'ancestry' ? `${containerNs}/${stem}${suffix}-rhel${rng.int(8, 9)}` : kind === 'source' ? stem + suffix : prefix + stem + suffix;
      const arch = archOp === 'invalid' ? '' : rng.weighted(ARCHES);
      const mod = kind === 'binary' && repo.includes('appstream') ? module : '';
      let fixed = invert || kind === 'source' ? '' : rhctag ? `v${rng.int(1, 4)}.${rng.int(0, 18)}.${rng.int(0, 9)}-${rng.int(1, 30)}` : evr(rng, repo, mod);
      let links = shared.links;
      if (change && unit(change.seed, emitted) < change.fraction) {
        // An updated advisory: a new fix build, or (no fix recorded) a new errata link.
        if (fixed) fixed += '.1';
        else links += ` https://access.redhat.com/errata/RHSA-2026:${1000 + (emitted % 9000)}`;
      }
      yield {
        updater: 'rhel-vex', name: shared.name, description: shared.description, issued: shared.issued, links,
        severity: shared.severity, normalizedSeverity: shared.normalizedSeverity,
        package: { name, version: '', module: mod, arch, kind },
        dist: null,
        repo: { name: repo, key: kind === 'ancestry' ? 'rhcc-container-repository' : 'rhel-cpe-repository', uri: '' },
        fixedInVersion: fixed, archOperation: archOp,
        range: rhctag ? (kind === 'ancestry' ? RHCTAG_ALL : { lower: version('rhctag', [0]), upper: version('rhctag', [rng.int(1, 6), rng.int(0, 18), MAX_INT32]) }) : null,
        invert, self: shared.self, aliases: shared.aliases,
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Small distro / language updaters

interface SmallUpdater {
  name: string;
  weight: number;
  make: (rng: Rng, i: number) => Vulnerability;
}

function cveName(rng: Rng, i: number): string {
  return `CVE-${rng.int(2005, 2025)}-${10000 + i}`;
}

function alpine(repo: 'main' | 'community', release: string): SmallUpdater {
  const dist: Distribution = {
    did: 'alpine', name: 'Alpine Linux', version: '', versionCodeName: '', versionId: release === 'edge' ? 'edge' : release.slice(1),
    arch: '', cpe: '', prettyName: release === 'edge' ? 'Alpine Linux edge' : `Alpine Linux ${release}`,
  };
  const name = `alpine-${repo}-${release}-updater`;
  return {
    name, weight: 1.5,
    make: (rng, i) => {
      const id = cveName(rng, i);
      return {
        updater: name, name: id, description: '', issued: '', links: `https://security.alpinelinux.org/vuln/${id}`,
        severity: '', normalizedSeverity: 'Unknown', package: { name: stemFor(rng), version: '', module: '', arch: '', kind: 'source' },
        dist, repo: null, fixedInVersion: `${rng.int(0, 9)}.${rng.int(0, 20)}.${rng.int(0, 9)}-r${rng.int(0, 5)}`,
        archOperation: 'invalid', range: null,
      };
    },
  };
}

const DEBIAN: readonly [string, string, string][] = [['11', 'bullseye', '11 (bullseye)'], ['12', 'bookworm', '12 (bookworm)'], ['13', 'trixie', '13 (trixie)']];
const DEBIAN_SEV: readonly (readonly [string, NormalizedSeverity])[] = [['unimportant', 'Negligible'], ['low', 'Low'], ['medium', 'Medium'], ['high', 'High'], ['not yet assigned', 'Unknown']];

function debian(): SmallUpdater {
  return {
    name: 'debian/updater', weight: 30,
    make: (rng, i) => {
      const [vid, code, ver] = rng.pick(DEBIAN);
      const id = cveName(rng, i);
      const [sev, norm] = rng.pick(DEBIAN_SEV);
      return {
        updater: 'debian/updater', name: id, description: text(rng, rng.int(40, 220)), issued: '',
        links: `https://security-tracker.debian.org/tracker/${id}`, severity: sev, normalizedSeverity: norm,
        package: { name: stemFor(rng), version: '', module: '', arch: '', kind: 'source' },
        dist: { did: 'debian', name: 'Debian GNU/Linux', version: ver, versionCodeName: code, versionId: vid, arch: '', cpe: '', prettyName: `Debian GNU/Linux ${ver}` },
        repo: null, fixedInVersion: rng.next() < 0.3 ? '' : `${rng.int(0, 9)}.${rng.int(0, 20)}-${rng.int(1, 9)}+deb${vid}u${rng.int(1, 5)}`,
        archOperation: 'invalid', range: null,
      };
    },
  };
}

function ubuntu(code: string, vid: string, pretty: string): SmallUpdater {
  const name = `ubuntu/updater/${code}`;
  return {
    name, weight: 8,
    make: (rng, i) => {
      const id = cveName(rng, i);
      const [sev, norm] = rng.pick(DEBIAN_SEV.slice(1, 4));
      return {
        updater: name, name: id, description: text(rng, rng.int(80, 600)), issued: `${rng.int(2015, 2025)}-0${rng.int(1, 9)}-1${rng.int(0, 9)}T${String(rng.int(10, 23))}:00:00Z`,
        links: `https://ubuntu.com/security/${id} https://www.cve.org/CVERecord?id=${id}`, severity: sev, normalizedSeverity: norm,
        package: { name: stemFor(rng) + rng.pick(BIN_SUFFIXES), version: '', module: '', arch: '', kind: 'binary' },
        dist: { did: 'ubuntu', name: 'Ubuntu', version: `${vid} (${pretty})`, versionCodeName: code, versionId: vid, arch: '', cpe: '', prettyName: `Ubuntu ${vid}` },
        repo: null, fixedInVersion: rng.next() < 0.4 ? '' : `${rng.int(0, 9)}.${rng.int(0, 20)}-${rng.int(1, 9)}ubuntu0.${vid}.${rng.int(1, 4)}`,
        archOperation: 'invalid', range: null,
      };
    },
  };
}

function osv(ecosystem: string, repoName: string, uri: string, kind: string): SmallUpdater {
  const name = `osv/${ecosystem}`;
  return {
    name, weight: 3.3,
    make: (rng, i) => {
      const ghsa = `${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}`;
      const cve = `${rng.int(2018, 2025)}-${20000 + i}`;
      const fixed = [rng.int(0, 9), rng.int(0, 30), rng.int(0, 20)];
      const range: Range = { lower: version(kind, [0]), upper: version(kind, [0, ...fixed]) };
      const [vector, sev] = CVSS[rng.int(0, CVSS.length - 2)];
      return {
        updater: name, name: `GHSA-${ghsa}`, description: text(rng, rng.int(20, 120)),
        issued: `${cve.slice(0, 4)}-0${rng.int(1, 9)}-1${rng.int(0, 9)}T0${rng.int(0, 9)}:${rng.int(10, 59)}:${rng.int(10, 59)}.${rng.int(100, 999)}Z`,
        links: `https://github.com/advisories/GHSA-${ghsa} https://osv.dev/vulnerability/CVE-${cve}`,
        severity: vector, normalizedSeverity: normalizedFromCvss(vector, sev),
        package: { name: ecosystem === 'go' ? `github.com/${syntheticStem(rng)}/${stemFor(rng)}` : stemFor(rng), version: '', module: '', arch: '', kind: 'binary' },
        dist: null, repo: { name: repoName, key: '', uri }, fixedInVersion: fixed.join('.'), archOperation: 'invalid', range,
        self: { space: 'GHSA', name: ghsa }, aliases: [{ space: 'CVE', name: cve }],
      };
    },
  };
}

export const SMALL_UPDATERS: readonly SmallUpdater[] = [
  ...['v3.18', 'v3.19', 'v3.20', 'v3.21', 'edge'].flatMap((r) => [alpine('main', r), alpine('community', r)]),
  debian(),
  ubuntu('focal', '20.04', 'Focal Fossa'), ubuntu('jammy', '22.04', 'Jammy Jellyfish'),
  ubuntu('noble', '24.04', 'Noble Numbat'), ubuntu('oracular', '24.10', 'Oracular Oriole'),
  osv('pypi', 'pypi', 'https://pypi.org/', 'pep440'), osv('npm', 'npm', 'https://www.npmjs.com/', 'semver'),
  osv('go', 'go', 'https://pkg.go.dev/', 'semver'), osv('maven', 'maven', 'https://repo1.maven.apache.org/maven2/', 'semver'),
  osv('rubygems', 'rubygems', 'https://rubygems.org/gems/', 'semver'), osv('crates.io', 'crates.io', 'https://crates.io/crates/', 'semver'),
  osv('nuget', 'nuget', 'https://www.nuget.org/packages/', 'semver'),
];

async function* small(seed: number, u: SmallUpdater, rows: number): AsyncGenerator<Vulnerability> {
  const rng = new Rng(seedOf(GENERATOR_VERSION, seed, u.name));
  for (let i = 0; i < rows; i++) yield u.make(rng, i);
}

async function* enrichments(seed: number, rows: number): AsyncGenerator<EnrichmentRecord> {
  const rng = new Rng(seedOf(GENERATOR_VERSION, seed, 'clair.cvss'));
  for (let i = 0; i < rows; i++) {
    const [vector] = CVSS[rng.int(0, CVSS.length - 2)];
    const score = (rng.int(10, 100) / 10).toFixed(1);
    const s = Number(score);
    const sev = s >= 9 ? 'CRITICAL' : s >= 7 ? 'HIGH' : s >= 4 ? 'MEDIUM' : 'LOW';
    yield {
      updater: 'clair.cvss', tags: [`CVE-${2000 + (i % 26)}-${100000 + i}`],
      json: `{"version":"3.1","vectorString":"${vector}","baseScore":${Number(score)},"baseSeverity":"${sev}"}`,
    };
  }
}

// ---------------------------------------------------------------------------------------------

export interface Plan {
  rhel: number;
  small: { name: string; rows: number }[];
  enrichments: number;
  total: number;
}

/** How `rows` vulnerability rows split over the updaters. */
export function plan(rows: number): Plan {
  const rhel = Math.round(rows * RHEL_SHARE);
  const rest = rows - rhel;
  const totalWeight = SMALL_UPDATERS.reduce((n, u) => n + u.weight, 0);
  const smallRows = SMALL_UPDATERS.map((u) => ({ name: u.name, rows: Math.floor((rest * u.weight) / totalWeight) }));
  smallRows[SMALL_UPDATERS.findIndex((u) => u.name === 'debian/updater')].rows += rest - smallRows.reduce((n, u) => n + u.rows, 0);
  return { rhel, small: smallRows, enrichments: Math.round(rows / ENRICHMENT_DIVISOR), total: rows };
}

export interface GenerateOptions {
  out: string;
  rows: number;
  seed: number;
  /** Alter CHANGE_FRACTION of rhel-vex rows, chosen by this seed (the "changed" variant). */
  changeSeed?: number;
  created: string;
  log: Logger;
}

export async function generateBundle(opts: GenerateOptions): Promise<Manifest> {
  const p = plan(opts.rows);
  const change = opts.changeSeed === undefined ? null : { seed: opts.changeSeed, fraction: CHANGE_FRACTION };
  async function* outputs(): AsyncGenerator<SourcedOutput> {
    yield { type: 'vulnerability', updater: 'rhel-vex', records: rhelVex(opts.seed, p.rhel, change), source: 'bench' };
    for (const [i, u] of SMALL_UPDATERS.entries()) {
      if (p.small[i].rows > 0) yield { type: 'vulnerability', updater: u.name, records: small(opts.seed, u, p.small[i].rows), source: 'bench' };
    }
    if (p.enrichments > 0) yield { type: 'enrichment', updater: 'clair.cvss', records: enrichments(opts.seed, p.enrichments), source: 'bench' };
  }
  return writeBundle({
    out: opts.out, created: opts.created, target: 'claircore-v1.5.54', log: opts.log, outputs: outputs(),
    sources: [{ name: 'bench', urls: {}, fetched_at: opts.created, files: [] }],
  });
}

export interface CachedBundles {
  base: string;
  changed: string;
  generatedSeconds: { base: number | null; changed: number | null };
}

const PARALLEL_ROWS = 2_000_000;

/** The base and 1 %-changed bundles for `rows`, generated once under `cacheDir`. */
export async function cachedBundles(cacheDir: string, rows: number, seed: number, changeSeed: number, log: Logger): Promise<CachedBundles> {
  const dir = path.join(cacheDir, `gen-v${GENERATOR_VERSION}-r${BUNDLE_REVISION}`, `rows-${rows}-seed-${seed}`);
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, 'base');
  const changed = path.join(dir, `changed-${changeSeed}`);
  const generatedSeconds: CachedBundles['generatedSeconds'] = { base: null, changed: null };
  const variants = [
    ['base', base, '2026-01-01T00:00:00.000Z', undefined],
    ['changed', changed, '2026-01-02T00:00:00.000Z', changeSeed],
  ] as const;
  // Both at once (one process each) up to PARALLEL_ROWS; above, one after the other, as each
  // spills about its own size again in sort runs to the temp directory while it builds.
  const generate = async ([key, out, created, cs]: (typeof variants)[number]) => {
    if (existsSync(path.join(out, 'manifest.json'))) return;
    const t = Date.now();
    log.info('generating bundle', { variant: key, rows, out });
    const args = [fileURLToPath(import.meta.url), '--out', out, '--rows', String(rows), '--seed', String(seed), '--created', created];
    if (cs !== undefined) args.push('--change-seed', String(cs));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`generating the ${key} bundle failed (exit ${code})`);
    generatedSeconds[key] = (Date.now() - t) / 1000;
    log.info('generated bundle', { variant: key, seconds: generatedSeconds[key] });
  };
  if (rows <= PARALLEL_ROWS) await Promise.all(variants.map(generate));
  else for (const v of variants) await generate(v);
  return { base, changed, generatedSeconds };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const out = opt('--out');
  const rows = Number(opt('--rows'));
  if (!out || !Number.isInteger(rows) || rows < 1) throw new Error('usage: generate.js --out DIR --rows N [--seed N] [--change-seed N] [--created ISO]');
  const cs = opt('--change-seed');
  await generateBundle({
    out, rows, seed: Number(opt('--seed') ?? 1), changeSeed: cs === undefined ? undefined : Number(cs),
    created: opt('--created') ?? '2026-01-01T00:00:00.000Z', log: createLogger({ level: 'warn' }),
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    process.stderr.write(`generate failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
