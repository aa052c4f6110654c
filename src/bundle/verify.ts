import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BundleError } from '../errors.js';
import { ALIAS_COLUMNS, ENRICHMENT_COLUMNS, VULN_COLUMNS } from '../model/row.js';
import { csvHeader } from './csv.js';
import { BUNDLE_FORMAT, MANIFEST_FILE, bundleDigest, type Manifest } from './manifest.js';

/**
 * Reads and checks a bundle without a database: format, every file's size and sha256, the
 * digest, CSV headers and row counts. Throws BundleError (exit 3) naming the file.
 */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BundleError(code === 'ENOENT' ? `${MANIFEST_FILE} not found: not a bundle, or an unfinished one` : `cannot read ${MANIFEST_FILE}: ${(err as Error).message}`, { place: { file: MANIFEST_FILE }, cause: err });
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (err) {
    throw new BundleError(`${MANIFEST_FILE} is not valid JSON: ${(err as Error).message}`, { place: { file: MANIFEST_FILE } });
  }
  if (manifest?.format !== BUNDLE_FORMAT) {
    throw new BundleError(`unsupported bundle format ${JSON.stringify(manifest?.format)} (this tool reads ${BUNDLE_FORMAT})`, { place: { file: MANIFEST_FILE } });
  }
  for (const key of ['created', 'digest', 'updaters', 'files', 'mappings', 'tool'] as const) {
    if (manifest[key] === undefined) throw new BundleError(`${MANIFEST_FILE} lacks "${key}"`, { place: { file: MANIFEST_FILE } });
  }
  if (text.trimEnd().includes('\n')) throw new BundleError(`${MANIFEST_FILE} must be one line of JSON`, { place: { file: MANIFEST_FILE } });
  return manifest;
}

interface Scan {
  sha256: string;
  size: number;
  /** Records (CSV rows outside quotes), header included. */
  records: number;
}

async function scanFile(abs: string): Promise<Scan> {
  const hash = createHash('sha256');
  let size = 0;
  let records = 0;
  let inQuote = false;
  let lastByte = 0x0a;
  for await (const chunk of createReadStream(abs) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0x22) inQuote = !inQuote;
      else if (b === 0x0a && !inQuote) {
        records++;
      }
    }
    if (chunk.length) lastByte = chunk[chunk.length - 1];
  }
  if (lastByte !== 0x0a) records++;
  return { sha256: hash.digest('hex'), size, records };
}

async function firstLineOf(abs: string): Promise<string> {
  const stream = createReadStream(abs, { start: 0, end: 65535 });
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl + 1);
}

export interface VerifyResult {
  manifest: Manifest;
  files: number;
  rows: number;
}

export async function verifyBundle(dir: string): Promise<VerifyResult> {
  const manifest = await readManifest(dir);
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  if (bundleDigest(manifest.files) !== manifest.digest) {
    throw new BundleError('manifest digest does not match its file list', { place: { file: MANIFEST_FILE } });
  }
  const expectRows = new Map<string, { rows: number; columns: readonly string[] }>();
  for (const u of manifest.updaters) {
    expectRows.set(u.file, { rows: u.rows, columns: u.kind === 'vulnerability' ? VULN_COLUMNS : ENRICHMENT_COLUMNS });
    if (u.aliases) expectRows.set(u.aliases.file, { rows: u.aliases.rows, columns: ALIAS_COLUMNS });
  }
  for (const f of [...expectRows.keys(), ...manifest.mappings.map((m) => m.file), 'load.sql']) {
    if (!listed.has(f)) throw new BundleError(`${f} is named by the manifest but not in its file list`, { place: { file: f } });
  }
  let rows = 0;
  for (const f of manifest.files) {
    if (f.path.split('/').some((seg) => seg === '..' || seg === '') || path.isAbsolute(f.path)) {
      throw new BundleError(`manifest lists an unsafe path ${JSON.stringify(f.path)}`, { place: { file: MANIFEST_FILE } });
    }
    const abs = path.join(dir, ...f.path.split('/'));
    let scan: Scan;
    try {
      scan = await scanFile(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new BundleError(code === 'ENOENT' ? `${f.path} is missing` : `cannot read ${f.path}: ${(err as Error).message}`, { place: { file: f.path }, cause: err });
    }
    if (scan.size !== f.size || scan.sha256 !== f.sha256) {
      throw new BundleError(`${f.path} does not match its checksum in the manifest (modified or corrupted)`, { place: { file: f.path } });
    }
    const expect = expectRows.get(f.path);
    if (expect) {
      const header = await firstLineOf(abs);
      if (header !== csvHeader(expect.columns)) {
        throw new BundleError(`${f.path} has an unexpected CSV header`, { place: { file: f.path, record: 'line 1' } });
      }
      if (scan.records - 1 !== expect.rows) {
        throw new BundleError(`${f.path} holds ${scan.records - 1} rows, the manifest says ${expect.rows}`, { place: { file: f.path } });
      }
      rows += expect.rows;
    }
  }
  return { manifest, files: manifest.files.length, rows };
}
