import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { FeedError } from '../errors.js';
import type { FeedOutput } from '../feeds/types.js';
import type { Logger } from '../log.js';
import { fnv1a64Signed } from '../model/fnv.js';
import { enrichmentHash } from '../model/hash.js';
import {
  ALIAS_COLUMNS, ENRICHMENT_COLUMNS, KEY_COLUMNS, VULN_COLUMNS, aliasRows, checkVulnerability, enrichmentRow,
  InvalidRecordError, isStored, vulnRow, type AliasRow,
} from '../model/row.js';
import type { EnrichmentRecord, Vulnerability } from '../model/vulnerability.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { csvHeader, csvLine } from './csv.js';
import { sortGrouped, type Keyed } from './external-sort.js';
import { renderLoadScript } from './load-script.js';
import {
  BUNDLE_FORMAT, LOAD_SCRIPT_FILE, MANIFEST_FILE, bundleDigest, updaterFileStem,
  type Manifest, type ManifestFile, type ManifestMapping, type ManifestSource, type ManifestUpdater,
} from './manifest.js';

/** One feed output, tagged with the feed (source) that produced it. */
export type SourcedOutput = FeedOutput & { source: string };

export interface WriteBundleOptions {
  out: string;
  created: string;
  target: string;
  sources: ManifestSource[];
  outputs: AsyncIterable<SourcedOutput>;
  log: Logger;
  /** Records per sorted run before spilling to disk. */
  sortChunkSize?: number;
}

/** A file written with a running sha256. */
class HashedFile {
  private readonly stream: WriteStream;
  private readonly hash = createHash('sha256');
  size = 0;
  rows = 0;
  constructor(readonly abs: string, readonly rel: string) {
    this.stream = createWriteStream(abs);
  }
  async write(text: string): Promise<void> {
    const buf = Buffer.from(text, 'utf8');
    this.hash.update(buf);
    this.size += buf.length;
    if (!this.stream.write(buf)) await once(this.stream, 'drain');
  }
  async close(): Promise<ManifestFile> {
    this.stream.end();
    await once(this.stream, 'finish');
    return { path: this.rel, sha256: this.hash.digest('hex'), size: this.size };
  }
}

type VulnValue = [csv: string, aliases: AliasRow[]];

function aliasKey(a: AliasRow): string {
  return `${a.kind}\u0000${a.namespace}\u0000${a.name}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * What PostgreSQL cannot store for Clair, caught at build time with the record named: a NUL
 * character in any text. (Whether a record's package, distribution and repository fields fit one
 * entry of Clair's vuln_lookup_idx depends on how well PostgreSQL compresses them: the load checks
 * that against a real index, sql/load/prepare-merge.sql, as claircore's insert would.)
 */
function checkStorable(row: readonly (string | null)[], aliases: readonly AliasRow[]): void {
  if (row.some((c) => c?.includes('\0')) || aliases.some((a) => (a.namespace + a.name).includes('\0'))) {
    throw new InvalidRecordError('a text field contains a NUL character, which PostgreSQL cannot store');
  }
}

async function* keyedVulns(out: { updater: string; source: string; records: AsyncIterable<Vulnerability> }, counts: { skipped: number }) {
  let n = 0;
  for await (const v of out.records) {
    n++;
    if (v.updater !== out.updater) {
      throw new FeedError(`record ${v.name} names updater ${JSON.stringify(v.updater)} inside updater ${out.updater}`, { place: { feed: out.source, record: v.name } });
    }
    if (!isStored(v)) {
      counts.skipped++;
      continue;
    }
    try {
      checkVulnerability(v);
      const row = vulnRow(v);
      const aliases = aliasRows(v);
      checkStorable(row, aliases);
      yield { key: row[0]!, value: [csvLine(['\\x' + row[0], ...row.slice(1)]), aliases] } as Keyed<VulnValue>;
    } catch (err) {
      if (err instanceof InvalidRecordError || err instanceof RangeError) {
        throw new FeedError(`invalid record #${n} of updater ${out.updater}: ${err.message}`, { place: { feed: out.source, record: v.name }, cause: err });
      }
      throw err;
    }
  }
}

async function writeVulnerabilities(
  dir: string, out: { updater: string; source: string; records: AsyncIterable<Vulnerability> }, chunkSize?: number,
): Promise<{ updater: ManifestUpdater; files: ManifestFile[] }> {
  const stem = updaterFileStem(out.updater);
  const vf = new HashedFile(path.join(dir, 'vulnerabilities', `${stem}.csv`), `vulnerabilities/${stem}.csv`);
  const af = new HashedFile(path.join(dir, 'aliases', `${stem}.csv`), `aliases/${stem}.csv`);
  const kf = new HashedFile(path.join(dir, 'keys', `${stem}.csv`), `keys/${stem}.csv`);
  await vf.write(csvHeader(VULN_COLUMNS));
  await af.write(csvHeader(ALIAS_COLUMNS));
  await kf.write(csvHeader(KEY_COLUMNS));
  const counts = { skipped: 0 };
  for await (const group of sortGrouped(keyedVulns(out, counts), { chunkSize })) {
    const [first] = group.value;
    const [vulnAt, aliasAt] = [vf.size, af.size];
    const digest = createHash('md5');
    digest.update(first[0]);
    await vf.write(first[0]);
    vf.rows++;
    // Aliases of all records sharing this row are added; only the first record's self counts.
    const aliases = new Map<string, AliasRow>();
    first[1].filter((a) => a.kind === 'self').forEach((a) => aliases.set(aliasKey(a), a));
    for (const [, rows] of group.value) rows.filter((a) => a.kind === 'alias').forEach((a) => aliases.set(aliasKey(a), a));
    for (const key of [...aliases.keys()].sort(compareStrings)) {
      const a = aliases.get(key)!;
      const line = csvLine(['\\x' + group.key, a.kind, a.namespace, a.name]);
      digest.update(line);
      await af.write(line);
      af.rows++;
    }
    await kf.write(csvLine(['\\x' + group.key, '\\x' + digest.digest('hex'), String(vulnAt), String(vf.size - vulnAt), String(aliasAt), String(af.size - aliasAt)]));
    kf.rows++;
  }
  const [vm, am, km] = [await vf.close(), await af.close(), await kf.close()];
  const fingerprint = createHash('sha256').update(`${vm.sha256}\n${am.sha256}\n`).digest('hex');
  return {
    updater: {
      name: out.updater, kind: 'vulnerability', fingerprint, rows: vf.rows, file: vm.path, sha256: vm.sha256,
      aliases: { file: am.path, rows: af.rows, sha256: am.sha256 }, keys: { file: km.path, rows: kf.rows, sha256: km.sha256, vuln_sha256: vm.sha256, aliases_sha256: am.sha256 },
      skipped: counts.skipped,
      lock_key: fnv1a64Signed(out.updater).toString(), source: out.source,
    },
    files: [vm, am, km],
  };
}

async function writeEnrichments(
  dir: string, out: { updater: string; source: string; records: AsyncIterable<EnrichmentRecord> }, chunkSize?: number,
): Promise<{ updater: ManifestUpdater; files: ManifestFile[] }> {
  const stem = updaterFileStem(out.updater);
  const ef = new HashedFile(path.join(dir, 'enrichments', `${stem}.csv`), `enrichments/${stem}.csv`);
  await ef.write(csvHeader(ENRICHMENT_COLUMNS));
  async function* keyed(): AsyncGenerator<Keyed<string>> {
    for await (const e of out.records) {
      if (e.updater !== out.updater) {
        throw new FeedError(`enrichment names updater ${JSON.stringify(e.updater)} inside updater ${out.updater}`, { place: { feed: out.source } });
      }
      const row = enrichmentRow(e);
      // jsonb refuses \u0000 (and PostgreSQL text a NUL): refuse it here, naming the enrichment.
      if (row.some((c) => c?.includes('\0')) || /(^|[^\\])(\\\\)*\\u0000/.test(e.json)) {
        throw new FeedError(`enrichment ${JSON.stringify(e.tags.join(','))} of updater ${out.updater} contains a NUL character, which PostgreSQL cannot store`, { place: { feed: out.source, record: e.tags.join(',') } });
      }
      yield { key: enrichmentHash(e), value: csvLine(['\\x' + row[0], ...row.slice(1)]) };
    }
  }
  for await (const group of sortGrouped(keyed(), { chunkSize })) {
    await ef.write(group.value[0]);
    ef.rows++;
  }
  const em = await ef.close();
  return {
    updater: {
      name: out.updater, kind: 'enrichment', fingerprint: em.sha256, rows: ef.rows, file: em.path, sha256: em.sha256,
      skipped: 0, lock_key: fnv1a64Signed(out.updater).toString(), source: out.source,
    },
    files: [em],
  };
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Writes a bundle: one CSV per updater (rows sorted by hash, duplicates collapsed the way
 * claircore's write-once table collapses them), mapping documents verbatim, load.sql, and the
 * manifest last. Everything goes to a temporary sibling directory that replaces `out` only when
 * complete, so a failed build leaves nothing half-written.
 */
export async function writeBundle(opts: WriteBundleOptions): Promise<Manifest> {
  const parent = path.dirname(path.resolve(opts.out));
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(path.join(parent, `.${path.basename(opts.out)}.building-`));
  try {
    for (const sub of ['vulnerabilities', 'aliases', 'keys', 'enrichments', 'mappings']) await mkdir(path.join(tmp, sub));
    const updaters: ManifestUpdater[] = [];
    const mappings: ManifestMapping[] = [];
    const files: ManifestFile[] = [];
    const seen = new Set<string>();
    for await (const output of opts.outputs) {
      const id = `${output.type}:${output.type === 'mapping' ? output.name : output.updater}`;
      if (seen.has(id)) throw new FeedError(`${id} produced twice`, { place: { feed: output.source } });
      seen.add(id);
      if (output.type === 'mapping') {
        const file = `mappings/${output.name}`;
        await copyFile(output.path, path.join(tmp, file));
        const sha256 = await sha256File(output.path);
        files.push({ path: file, sha256, size: (await stat(output.path)).size });
        mappings.push({ name: output.name, file, sha256, upstream_date: output.upstreamDate, source: output.source });
        continue;
      }
      const started = Date.now();
      const written = output.type === 'vulnerability'
        ? await writeVulnerabilities(tmp, output, opts.sortChunkSize)
        : await writeEnrichments(tmp, output, opts.sortChunkSize);
      updaters.push(written.updater);
      files.push(...written.files);
      opts.log.info('built updater', { updater: output.updater, rows: written.updater.rows, skipped: written.updater.skipped, ms: Date.now() - started });
    }
    updaters.sort((a, b) => compareStrings(a.name, b.name));
    mappings.sort((a, b) => compareStrings(a.name, b.name));
    const base = {
      format: BUNDLE_FORMAT, created: opts.created, tool: { name: TOOL_NAME, version: TOOL_VERSION },
      target: opts.target, sources: opts.sources, updaters, mappings, vuln_csv_as_stored: true,
    };
    const script = renderLoadScript({ ...base, files: [], digest: '' });
    await writeFile(path.join(tmp, LOAD_SCRIPT_FILE), script);
    files.push({ path: LOAD_SCRIPT_FILE, sha256: createHash('sha256').update(script).digest('hex'), size: Buffer.byteLength(script) });
    files.sort((a, b) => compareStrings(a.path, b.path));
    const manifest: Manifest = { ...base, files, digest: bundleDigest(files) };
    // One line of JSON: load.sql stages it with a single COPY row.
    await writeFile(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest) + '\n');
    const old = `${tmp}.old`;
    await rename(opts.out, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(tmp, opts.out);
    await rm(old, { recursive: true, force: true });
    return manifest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
