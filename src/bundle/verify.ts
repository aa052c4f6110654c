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
  /** CSV records, header included (CSV files only). */
  records: number;
  /** The first thing PostgreSQL's COPY would misread, for CSV files (record = 1-based, header = 1). */
  problem?: { record: number; what: string };
}

/**
 * Streams a file once: sha256, size, and for CSV files (`fields` = columns) the records and the
 * first thing PostgreSQL's COPY would stumble over or silently misread: a NUL byte or invalid
 * UTF-8 (COPY rejects them), a stray quote or a record with the wrong number of fields (rows
 * shifted), and an unquoted `\.` line, which COPY FROM STDIN takes for the end of the data and
 * then drops every row after it without an error.
 */
async function scanFile(abs: string, fields?: number): Promise<Scan> {
  const hash = createHash('sha256');
  let size = 0;
  let records = 0;
  let problem: Scan['problem'];
  // CSV state: 0 field start, 1 unquoted field, 2 quoted field, 3 quote seen inside a quoted field.
  let state = 0;
  let commas = 0;
  let lineStart = ''; // the first bytes of a record, to spot a lone \.
  let utf8Need = 0;
  let utf8Min = 0x80;
  let utf8Max = 0xbf;
  const flag = (what: string) => {
    problem ??= { record: records + 1, what };
  };
  const endRecord = () => {
    if (/^\\\.\r?$/.test(lineStart)) flag('an unquoted \\. line (COPY would stop reading there)');
    else if (commas + 1 !== fields) flag(`${commas + 1} fields, expected ${fields}`);
    records++;
    commas = 0;
    lineStart = '';
    state = 0;
  };
  for await (const chunk of createReadStream(abs) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (fields === undefined || problem) continue;
    for (let i = 0; i < chunk.length && !problem; i++) {
      const b = chunk[i];
      if (utf8Need > 0) {
        if (b < utf8Min || b > utf8Max) flag('invalid UTF-8');
        utf8Need--;
        utf8Min = 0x80;
        utf8Max = 0xbf;
      } else if (b >= 0x80) {
        if (b >= 0xc2 && b <= 0xdf) utf8Need = 1;
        else if (b >= 0xe0 && b <= 0xef) {
          utf8Need = 2;
          if (b === 0xe0) utf8Min = 0xa0;
          if (b === 0xed) utf8Max = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
          utf8Need = 3;
          if (b === 0xf0) utf8Min = 0x90;
          if (b === 0xf4) utf8Max = 0x8f;
        } else flag('invalid UTF-8');
      } else if (b === 0) flag('a NUL byte');
      if (state !== 2 && state !== 3 && commas === 0 && lineStart.length < 3 && b !== 0x0a) lineStart += String.fromCharCode(b);
      switch (state) {
        case 0:
        case 1:
          if (b === 0x22) {
            if (state === 1) flag('a quote inside an unquoted field');
            state = 2;
          } else if (b === 0x2c) {
            commas++;
            state = 0;
          } else if (b === 0x0a) endRecord();
          else state = 1;
          break;
        case 2:
          if (b === 0x22) state = 3;
          break;
        default: // a quote inside a quoted field: an escaped quote, or the closing one
          if (b === 0x22) state = 2;
          else if (b === 0x2c) {
            commas++;
            state = 0;
          } else if (b === 0x0a) endRecord();
          else flag('a stray quote inside a quoted field');
      }
    }
  }
  if (fields !== undefined && !problem) {
    if (state === 2) flag('an unterminated quoted field');
    else if (state !== 0 || commas > 0) endRecord(); // a last record without a newline
    if (utf8Need > 0) flag('invalid UTF-8');
  }
  return { sha256: hash.digest('hex'), size, records, problem };
}

async function firstLineOf(abs: string): Promise<string> {
  const stream = createReadStream(abs, { start: 0, end: 65535 });
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl + 1);
}

/** psql meta-commands load.sql may hold (src/bundle/load-script.ts writes nothing else). */
const META_COMMANDS = new Set(['set', 'if', 'elif', 'else', 'endif', 'echo', 'gset', 'copy']);
const COPY_LINE = /^\\copy (stage_[a-z_]+) \([a-z_, ]+\) FROM '((?:[^']|'')+)' WITH \([^\n]*\)$/;

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
    const expect = expectRows.get(f.path);
    let scan: Scan;
    try {
      scan = await scanFile(abs, expect?.columns.length);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new BundleError(code === 'ENOENT' ? `${f.path} is missing` : `cannot read ${f.path}: ${(err as Error).message}`, { place: { file: f.path }, cause: err });
    }
    if (scan.size !== f.size || scan.sha256 !== f.sha256) {
      throw new BundleError(`${f.path} does not match its checksum in the manifest (modified or corrupted)`, { place: { file: f.path } });
    }
    if (expect) {
      const header = await firstLineOf(abs);
      if (header !== csvHeader(expect.columns)) {
        throw new BundleError(`${f.path} has an unexpected CSV header`, { place: { file: f.path, record: 'line 1' } });
      }
      if (scan.problem) {
        const where = `record ${scan.problem.record - 1}`;
        throw new BundleError(`${f.path} ${where}: ${scan.problem.what}`, { place: { file: f.path, record: where } });
      }
      if (scan.records - 1 !== expect.rows) {
        throw new BundleError(`${f.path} holds ${scan.records - 1} rows, the manifest says ${expect.rows}`, { place: { file: f.path } });
      }
      rows += expect.rows;
    }
  }
  // Mapping documents are carried verbatim and cast to jsonb by the load: they must be JSON.
  for (const m of manifest.mappings) {
    try {
      JSON.parse(await readFile(path.join(dir, ...m.file.split('/')), 'utf8'));
    } catch (err) {
      throw new BundleError(`${m.file} is not valid JSON: ${(err as Error).message}`, { place: { file: m.file } });
    }
  }
  const dataFiles = new Set([MANIFEST_FILE, ...manifest.files.map((f) => f.path).filter((p) => p !== 'load.sql')]);
  checkLoadScript(await readFile(path.join(dir, 'load.sql'), 'utf8'), dataFiles);
  return { manifest, files: manifest.files.length, rows };
}
