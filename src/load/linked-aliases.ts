import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileAgain, KeyOrdinals } from './alias-ordinals.js';
import { CsvToCopyText } from './csv-to-copy-text.js';
import { NameOrdinals } from './name-ordinals.js';
import { READ_CHUNK } from './not-vulnerable-filter.js';

/** A bundle file: where it is, its path in the bundle and (to read it again) its sha256. */
export interface BundleFile {
  abs: string;
  path: string;
  sha256: string;
}

/**
 * The alias file of the updater copied straight into vuln split as the second session's COPY split
 * it (src/load/name-ordinals.ts: `keep`), its records numbered from its keys file: the numbering a
 * converter of that file needs (a second read of the keys file, checked against the manifest).
 */
export function keyNumbering(keys: BundleFile): KeyOrdinals {
  return new KeyOrdinals(new FileAgain(keys.abs, { path: keys.path, sha256: keys.sha256 }));
}

/**
 * For a COPY error in rows a NameOrdinals passed on (`keep`): the file line (COPY's numbering: the
 * header is line 1, each record one line) of its `line - 1`-th row, the stream having no header.
 * The file is read again through the same conversion (`limit`: as many names), which splits it
 * the same way.
 */
export async function lineOfPassedAlias(aliases: BundleFile, keys: BundleFile, keep: 'unlinked' | 'linked', line: number, limit?: number): Promise<number> {
  const names = new NameOrdinals(aliases.path, limit, undefined, keep, line - 1);
  await pipeline(
    createReadStream(aliases.abs, { highWaterMark: READ_CHUNK }),
    new CsvToCopyText(aliases.path, keyNumbering(keys)),
    names,
    new Writable({ write: (_chunk, _enc, done) => done() }),
  );
  return names.foundAt === undefined ? line : names.foundAt + 1;
}
