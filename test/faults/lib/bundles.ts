import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeBundle, type SourcedOutput } from '../../../src/bundle/write.js';
import type { Manifest } from '../../../src/bundle/manifest.js';
import { silentLogger } from '../../../src/log.js';
import type { EnrichmentRecord, Vulnerability } from '../../../src/model/vulnerability.js';
import { EXAMPLE_A, EXAMPLE_B, EXAMPLE_ENRICHMENT, variations } from '../../helpers/records.js';
import { DEFAULT_FEEDS_DIR } from '../../helpers/feed-server.js';

/**
 * Bundles for the fault suite: the loader tests' worked examples (clair-matcher-db.md §2.2) in
 * variations, aliases (osv/npm), an enrichment and the real repository-to-cpe.json of the shared
 * fixtures, so every COPY and merge step of a load has work to do.
 */
export const MAPPING_FIXTURE = path.join(DEFAULT_FEEDS_DIR, 'rhel-metrics', 'data', 'metrics', 'repository-to-cpe.json');

/** A package the Clair-style readers ask for; its rows differ between generation 1 and 2. */
export const READER_PACKAGE = { name: 'libreader', kind: 'source', distId: 'debian', distName: 'Debian GNU/Linux', versionId: '12' };

function readerRows(generation: number): Vulnerability[] {
  // Generation 1: CVE-…-R0..R2 fixed in 1.x; generation 2: R1 (same row), R2 fixed later, R3 new.
  const base: Vulnerability = { ...EXAMPLE_A, package: { ...EXAMPLE_A.package!, name: READER_PACKAGE.name } };
  const rows = generation === 1
    ? [['R0', '1.0'], ['R1', '1.1'], ['R2', '1.2']]
    : [['R1', '1.1'], ['R2', '2.2'], ['R3', '2.3']];
  return rows.map(([n, v]) => ({ ...base, name: `CVE-2099-${n}`, fixedInVersion: v }));
}

export interface Generation {
  /** Vulnerability rows of debian/updater and osv/npm. */
  rows: number;
  /** 1 = base, 2 = a refresh: 10% of debian rows replaced (`replaced`), osv/npm unchanged, readers' rows changed. */
  generation: 1 | 2;
  created: string;
  /**
   * repository-to-cpe.json: the whole real document (2.7 MB), an excerpt of it (its first 200
   * repositories, same format: a mapping COPY and replace that take milliseconds), or none.
   */
  mapping?: 'full' | 'excerpt' | 'none';
  /** debian/updater's rows with a "self" alias and two aliases each (one name shared by all). */
  aliases?: boolean;
  /** Generation 2's share of debian rows replaced (default 0.1; at most 0.05 makes a keyed refresh: sql/load/plan-keyed.sql). */
  replaced?: number;
}

async function mappingExcerpt(dir: string): Promise<string> {
  const doc = JSON.parse(await readFile(MAPPING_FIXTURE, 'utf8')) as { data: Record<string, unknown>; last_updated?: string };
  const data = Object.fromEntries(Object.entries(doc.data).slice(0, 200));
  const file = path.join(dir, 'repository-to-cpe.excerpt.json');
  await writeFile(file, JSON.stringify({ data, last_updated: doc.last_updated }, null, '\t') + '\n');
  return file;
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

export async function makeGeneration(g: Generation, dir?: string): Promise<{ dir: string; manifest: Manifest }> {
  const out = dir ?? path.join(await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-faults-')), 'bundle');
  const debianRows = Math.round(g.rows * 0.8);
  const npmRows = g.rows - debianRows;
  const kept = g.generation === 1 ? debianRows : Math.round(debianRows * (1 - (g.replaced ?? 0.1)));
  const withAliases = (r: Vulnerability, i: number): Vulnerability => (g.aliases
    ? { ...r, self: { space: 'DEBIAN', name: `DSA-${i}` }, aliases: [{ space: 'CVE', name: `2024-${1000 + i}` }, { space: 'CVE', name: '2024-0001' }] } : r);
  const debian = [
    ...variations(EXAMPLE_A, kept, 'g').map(withAliases),
    ...(g.generation === 1 ? [] : variations(EXAMPLE_A, debianRows - kept, 'h')),
    ...readerRows(g.generation),
  ];
  const npm = variations(EXAMPLE_B, npmRows, 'g');
  const enrich: EnrichmentRecord[] = [EXAMPLE_ENRICHMENT];
  const mapping = g.mapping ?? 'full';
  const mappingFile = mapping === 'excerpt' ? await mappingExcerpt(path.dirname(out)) : MAPPING_FIXTURE;
  async function* outputs(): AsyncGenerator<SourcedOutput> {
    yield { type: 'vulnerability', updater: 'debian/updater', records: from(debian), source: 'test' };
    yield { type: 'vulnerability', updater: 'osv/npm', records: from(npm), source: 'test' };
    yield { type: 'enrichment', updater: 'clair.cvss', records: from(enrich), source: 'test' };
    if (mapping !== 'none') {
      yield { type: 'mapping', name: 'repository-to-cpe.json', path: mappingFile, upstreamDate: '2025-02-12T00:00:00Z', source: 'test' };
    }
  }
  const manifest = await writeBundle({
    out, created: g.created, target: 'claircore-v1.5.54', log: silentLogger, outputs: outputs(),
    sources: [{ name: 'test', urls: {}, fetched_at: g.created, files: [] }],
  });
  return { dir: out, manifest };
}

/** Expected rows of the readers' package per generation: "name fixed_in_version", sorted. */
export function readerExpectation(generation: 1 | 2): string[] {
  return readerRows(generation).map((v) => `${v.name} ${v.fixedInVersion}`).sort();
}
