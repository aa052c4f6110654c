import { createHash } from 'node:crypto';

export const BUNDLE_FORMAT = 'clair-bundle/v1';
export const MANIFEST_FILE = 'manifest.json';
export const LOAD_SCRIPT_FILE = 'load.sql';

export interface ManifestFile {
  path: string;
  sha256: string;
  size: number;
}

export interface ManifestSource {
  name: string;
  urls: Record<string, string>;
  fetched_at: string;
  files: { part: string; path: string; url: string; etag: string; last_modified: string; sha256: string }[];
}

export interface ManifestUpdater {
  name: string;
  kind: 'vulnerability' | 'enrichment';
  /** Changes if and only if the updater's rows change. */
  fingerprint: string;
  rows: number;
  file: string;
  sha256: string;
  /** Alias rows (vulnerability updaters only). */
  aliases?: { file: string; rows: number; sha256: string };
  /**
   * Row keys (vulnerability updaters, KEY_COLUMNS), computed from the vulnerability and alias CSVs
   * with these sha256 (a load uses them only for exactly those files). Absent in bundles of earlier
   * builds, whose refreshes then stage every row.
   */
  keys?: { file: string; rows: number; sha256: string; vuln_sha256: string; aliases_sha256: string };
  /** Records claircore's writer would skip (no package name), not in the CSV. */
  skipped: number;
  /** Clair's advisory-lock key for this updater name (FNV-1a 64, signed, decimal). */
  lock_key: string;
  source: string;
}

export interface ManifestMapping {
  name: string;
  file: string;
  sha256: string;
  upstream_date: string;
  source: string;
}

export interface Manifest {
  format: string;
  created: string;
  tool: { name: string; version: string };
  /** claircore version whose rules the rows follow. */
  target: string;
  sources: ManifestSource[];
  updaters: ManifestUpdater[];
  mappings: ManifestMapping[];
  files: ManifestFile[];
  /**
   * Every vulnerability CSV holds each column as Clair's vuln table stores it (vulnerable_range
   * included: `empty`, never an empty field), so a load into an empty vuln may COPY it straight in.
   * Absent in bundles of earlier builds: those are always staged.
   */
  vuln_csv_as_stored?: boolean;
  /** sha256 over the `sha256sum`-style listing of `files` sorted by path; identifies the bundle. */
  digest: string;
}

/** The digest: sha256 of "<sha256>  <path>\n" lines for every file, sorted by path. */
export function bundleDigest(files: readonly ManifestFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    h.update(`${f.sha256}  ${f.path}\n`);
  }
  return h.digest('hex');
}

/** A file-name-safe, reversible form of an updater name (`debian/updater` → `debian%2Fupdater`). */
export function updaterFileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''));
}
