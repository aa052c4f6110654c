import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { BundleError } from '../errors.js';
import { ALIAS_COLUMNS, ENRICHMENT_COLUMNS, KEY_COLUMNS, VULN_COLUMNS } from '../model/row.js';
import { csvHeader } from './csv.js';
import { FileCheck, checkingStream, type ChunkWatcher, type FileScan } from './file-check.js';
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

/** psql meta-commands load.sql may hold (src/bundle/load-script.ts writes nothing else). */
const META_COMMANDS = new Set(['set', 'if', 'elif', 'else', 'endif', 'echo', 'gset', 'copy']);
const COPY_LINE = /^\\copy ((?:clair_bundle\.)?stage_[a-z_]+) \([a-z_, ]+\) FROM '((?:[^']|'')+)' WITH \([^\n]*\)$/;

/**
 * load.sql holds statements and \copy lines only (contract §3): every row a DBA's psql loads must
 * come from a bundle file the manifest lists and checks. Refuses, naming the line, a script that
 * carries data or runs anything else: COPY … FROM STDIN / PROGRAM, a \copy from stdin or from a
 * file outside the manifest, or any psql meta-command other than the ones clair-bundle writes
 * (\! shell escapes, \i includes, \o output redirection, …).
 */
export function checkLoadScript(text: string, dataFiles: ReadonlySet<string>): void {
  const lineAt = (pos: number) => text.slice(0, pos).split('\n').length;
  const fail = (pos: number, what: string): never => {
    const line = lineAt(pos);
    throw new BundleError(`load.sql line ${line}: ${what}; clair-bundle never writes that (edited after the build?)`, {
      place: { file: 'load.sql', record: `line ${line}` },
    });
  };
  // The SQL with comments, string literals and dollar-quoted bodies blanked out (newlines kept).
  const code = text.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < code.length; k++) if (code[k] !== '\n') code[k] = ' ';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      blank(i, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail(i, 'unterminated comment');
      blank(i, end + 2);
      i = end + 2;
    } else if (c === "'") {
      const escapes = /[eE]$/.test(text.slice(Math.max(0, i - 1), i));
      let j = i + 1;
      for (; j < text.length; j++) {
        if (escapes && text[j] === '\\') j++;
        else if (text[j] === "'" && text[j + 1] === "'") j++;
        else if (text[j] === "'") break;
      }
      blank(i, j + 1);
      i = j + 1;
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(text.slice(i, i + 64))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 64))![0];
      const end = text.indexOf(tag, i + tag.length);
      if (end < 0) fail(i, 'unterminated dollar quote');
      const copy = /\b(COPY|PROGRAM)\b/i.exec(text.slice(i, end));
      if (copy) fail(i + copy.index, `${copy[1].toUpperCase()} inside a dollar-quoted block`);
      blank(i, end + tag.length);
      i = end + tag.length;
    } else if (c === '\\') {
      const end = text.indexOf('\n', i);
      const rest = text.slice(i, end < 0 ? text.length : end);
      const cmd = /^\\([a-z]*)/.exec(rest)?.[1] ?? '';
      if (i > 0 && text[i - 1] !== '\n') fail(i, `psql meta-command ${JSON.stringify(rest.slice(0, 20))} inside a line`);
      if (!META_COMMANDS.has(cmd)) fail(i, `psql meta-command ${rest.split(/\s/)[0]}`);
      if (cmd === 'copy') {
        const m = COPY_LINE.exec(rest);
        if (!m || !dataFiles.has(m[2].replace(/''/g, "'"))) fail(i, '\\copy from anything but a data file the manifest lists');
      }
      blank(i, i + rest.length);
      i += rest.length;
    } else {
      i++;
    }
  }
  const copy = /\b(COPY|PROGRAM)\b/i.exec(code.join(''));
  if (copy) fail(copy.index, `SQL ${copy[1].toUpperCase()} statement (data or commands inside the script)`);
}

export interface VerifyResult {
  manifest: Manifest;
  files: number;
  rows: number;
  /** The data files whose content was left to the load (verify `data: 'size'`), by bundle path. */
  deferred: Map<string, ExpectedFile>;
}

/** A bundle file as the manifest describes it, for checking its content. */
export interface ExpectedFile {
  path: string;
  sha256: string;
  size: number;
  /** CSV files: the columns of the header and the rows the manifest counts. */
  columns?: readonly string[];
  rows?: number;
}

function checksumMismatch(f: ExpectedFile): BundleError {
  return new BundleError(`${f.path} does not match its checksum in the manifest (modified or corrupted)`, { place: { file: f.path } });
}

/**
 * Judges what a FileCheck saw of a bundle file; `complete` once the whole file went through.
 * Throws BundleError (exit 3) naming the file and, for a CSV problem, the record.
 */
export function judgeScan(f: ExpectedFile, scan: FileScan, complete: boolean): void {
  if (complete && (scan.size !== f.size || scan.sha256 !== f.sha256)) throw checksumMismatch(f);
  if (!f.columns) return;
  if ((complete || scan.header.endsWith('\n')) && scan.header !== csvHeader(f.columns)) {
    throw new BundleError(`${f.path} has an unexpected CSV header`, { place: { file: f.path, record: 'line 1' } });
  }
  if (scan.problem) {
    const where = `record ${scan.problem.record - 1}`;
    throw new BundleError(`${f.path} ${where}: ${scan.problem.what}`, { place: { file: f.path, record: where } });
  }
  if (complete && scan.records - 1 !== f.rows) {
    throw new BundleError(`${f.path} holds ${scan.records - 1} rows, the manifest says ${f.rows}`, { place: { file: f.path } });
  }
}

/** A read stream of a bundle file that fails (BundleError) as soon as its content does not match `f`. */
export function checkedReadStream(dir: string, f: ExpectedFile, highWaterMark?: number): NodeJS.ReadableStream {
  const source = createReadStream(path.join(dir, ...f.path.split('/')), { highWaterMark });
  const checker = checkingStream(fileWatcher(f));
  source.on('error', (err) => checker.destroy(err));
  return source.pipe(checker);
}

/**
 * The check of a bundle file as it is read (checkedReadStream, src/load/file-pump.ts): judged as
 * soon as FileCheck finds a CSV problem, and once the whole file went through.
 */
export function fileWatcher(f: ExpectedFile): ChunkWatcher {
  const check = new FileCheck(f.columns?.length);
  return {
    update(chunk) {
      check.update(chunk);
      if (check.firstProblem) judgeScan(f, check.finish(), false);
    },
    end() {
      judgeScan(f, check.finish(), true);
    },
  };
}

async function scanFile(abs: string, fields?: number): Promise<FileScan> {
  const check = new FileCheck(fields);
  // The whole file, even after a CSV problem: a checksum mismatch is reported first.
  for await (const chunk of createReadStream(abs) as AsyncIterable<Buffer>) check.update(chunk);
  return check.finish();
}

/** Checks a whole bundle file against `f` (BundleError, exit 3, naming the file and record). */
export async function checkFile(dir: string, f: ExpectedFile): Promise<void> {
  judgeScan(f, await scanFile(path.join(dir, ...f.path.split('/')), f.columns?.length), true);
}

/** The bundle's CSV files (data and row keys) by path: the rows the manifest counts, the header's columns. */
export function csvFiles(manifest: Manifest): Map<string, { rows: number; columns: readonly string[] }> {
  const files = new Map<string, { rows: number; columns: readonly string[] }>();
  for (const u of manifest.updaters) {
    files.set(u.file, { rows: u.rows, columns: u.kind === 'vulnerability' ? VULN_COLUMNS : ENRICHMENT_COLUMNS });
    if (u.aliases) files.set(u.aliases.file, { rows: u.aliases.rows, columns: ALIAS_COLUMNS });
    if (u.keys) files.set(u.keys.file, { rows: u.keys.rows, columns: KEY_COLUMNS });
  }
  return files;
}

/** With `data: 'size'`, CSV data files up to this size are still checked completely up front. */
export const DEFER_ABOVE_BYTES = 64 * 1024 * 1024;

/**
 * Checks a bundle (contract §3) without a database: format, digest, every file's size and sha256,
 * CSV headers, records and row counts, mapping documents, load.sql. Throws BundleError (exit 3)
 * naming the file. With `data: 'size'` the CSV data files larger than `deferAbove` (DEFER_ABOVE_BYTES) are only
 * checked for presence and size: their content is left to whoever reads them next (`load` checks
 * each file while it copies it, with checkedReadStream, before anything is committed; a big file of
 * an unchanged updater is never read, so nothing of it can be loaded).
 */
export async function verifyBundle(dir: string, opts: { data?: 'full' | 'size'; deferAbove?: number } = {}): Promise<VerifyResult> {
  const manifest = await readManifest(dir);
  const listed = new Map(manifest.files.map((f) => [f.path, f]));
  if (bundleDigest(manifest.files) !== manifest.digest) {
    throw new BundleError('manifest digest does not match its file list', { place: { file: MANIFEST_FILE } });
  }
  const expectRows = csvFiles(manifest);
  for (const f of [...expectRows.keys(), ...manifest.mappings.map((m) => m.file), 'load.sql']) {
    if (!listed.has(f)) throw new BundleError(`${f} is named by the manifest but not in its file list`, { place: { file: f } });
  }
  let rows = 0;
  const deferred = new Map<string, ExpectedFile>();
  for (const f of manifest.files) {
    if (f.path.split('/').some((seg) => seg === '..' || seg === '') || path.isAbsolute(f.path)) {
      throw new BundleError(`manifest lists an unsafe path ${JSON.stringify(f.path)}`, { place: { file: MANIFEST_FILE } });
    }
    const abs = path.join(dir, ...f.path.split('/'));
    const expect = expectRows.get(f.path);
    const expected: ExpectedFile = { path: f.path, sha256: f.sha256, size: f.size, columns: expect?.columns, rows: expect?.rows };
    try {
      if (expect && opts.data === 'size' && f.size > (opts.deferAbove ?? DEFER_ABOVE_BYTES)) {
        if ((await stat(abs)).size !== f.size) throw checksumMismatch(expected);
        deferred.set(f.path, expected);
      } else {
        await checkFile(dir, expected);
      }
    } catch (err) {
      if (err instanceof BundleError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new BundleError(code === 'ENOENT' ? `${f.path} is missing` : `cannot read ${f.path}: ${(err as Error).message}`, { place: { file: f.path }, cause: err });
    }
    rows += expect?.rows ?? 0;
  }
  for (const m of manifest.mappings) {
    try {
      JSON.parse(await readFile(path.join(dir, ...m.file.split('/')), 'utf8'));
    } catch (err) {
      throw new BundleError(`${m.file} is not valid JSON: ${(err as Error).message}`, { place: { file: m.file } });
    }
  }
  const dataFiles = new Set([MANIFEST_FILE, ...manifest.files.map((f) => f.path).filter((p) => p !== 'load.sql')]);
  checkLoadScript(await readFile(path.join(dir, 'load.sql'), 'utf8'), dataFiles);
  return { manifest, files: manifest.files.length, rows, deferred };
}
