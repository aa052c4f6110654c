import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { BundleError } from '../errors.js';

/**
 * The rows a keyed refresh stages (sql/load/plan-keyed.sql), by their places in the updater's two
 * CSVs, in file order: row i is `vulnBytes[i]` bytes at `vulnAt[i]` of the vulnerability CSV and
 * `aliasBytes[i]` bytes at `aliasAt[i]` of the alias CSV; `digest` holds the 16-byte md5 of both.
 */
export interface KeyedRows {
  vulnAt: Float64Array;
  vulnBytes: Float64Array;
  aliasAt: Float64Array;
  aliasBytes: Float64Array;
  digest: Buffer;
}

/** A bundle file: where it is, and its bundle path for messages. */
export interface BundleFile {
  abs: string;
  path: string;
}

/** Rows read at once (concurrent positioned reads). */
const BATCH = 64;

/**
 * The keyed rows in file order, in batches: each row's bytes in both files, read straight from its
 * place rather than by reading the whole files, and checked against its key's md5 digest (the keys
 * file itself was checked by its sha256), so every byte that reaches the database is one the
 * bundle's builder wrote there. Bytes no row is read from are not checked, as a file of an
 * unchanged updater is not. Stops (AbortError) once `signal` is aborted.
 */
async function* keyedBatches(
  files: { vuln: BundleFile; alias: BundleFile; keys: string }, rows: KeyedRows, signal?: AbortSignal,
): AsyncGenerator<{ vuln: Buffer[]; alias: Buffer[] }> {
  const [vuln, alias] = [await open(files.vuln.abs, 'r'), await open(files.alias.abs, 'r')];
  try {
    for (let from = 0; from < rows.vulnAt.length; from += BATCH) {
      signal?.throwIfAborted();
      const batch = await Promise.all(Array.from({ length: Math.min(BATCH, rows.vulnAt.length - from) }, async (_, j) => {
        const i = from + j;
        const v = await readAt(vuln, rows.vulnAt[i], rows.vulnBytes[i]);
        const a = await readAt(alias, rows.aliasAt[i], rows.aliasBytes[i]);
        const md5 = createHash('md5').update(v).update(a).digest();
        if (!md5.equals(rows.digest.subarray(16 * i, 16 * i + 16))) {
          throw new BundleError(`${files.vuln.path}: the row at byte ${rows.vulnAt[i]} (with its alias rows in ${files.alias.path}) does not match its key in ${files.keys} (modified or corrupted)`, {
            place: { file: files.vuln.path, record: `byte ${rows.vulnAt[i]}` },
          });
        }
        return [v, a];
      }));
      yield { vuln: batch.map((r) => r[0]), alias: batch.map((r) => r[1]) };
    }
  } finally {
    await vuln.close();
    await alias.close();
  }
}

/** A stream of the CSV `header` followed by the `part` (vulnerability or alias rows) of every keyed row (keyedBatches). */
export function keyedRowStream(
  files: { vuln: BundleFile; alias: BundleFile; keys: string }, rows: KeyedRows, part: 'vuln' | 'alias', header: string,
): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    yield Buffer.from(header);
    for await (const batch of keyedBatches(files, rows)) yield Buffer.concat(batch[part]);
  }
  return Readable.from(generate(), { objectMode: false });
}

/** The two CSVs of a keyed updater's rows, written by spoolKeyedRows. */
export interface SpooledRows {
  vuln: string;
  alias: string;
}

/**
 * Both parts of every keyed row (keyedBatches), read once, into two CSV files in `dir`, each
 * beginning with its header: the load COPYs them from there, after a statement that ran meanwhile
 * (sql/load/link-prior.sql). Files are named after `name`, one of the load's updaters.
 */
export async function spoolKeyedRows(
  files: { vuln: BundleFile; alias: BundleFile; keys: string }, rows: KeyedRows, headers: { vuln: string; alias: string },
  dir: string, name: string, signal?: AbortSignal,
): Promise<SpooledRows> {
  const base = path.join(dir, encodeURIComponent(name));
  const spooled = { vuln: `${base}.vuln.csv`, alias: `${base}.alias.csv` };
  const [vuln, alias] = [await open(spooled.vuln, 'wx'), await open(spooled.alias, 'wx')];
  try {
    // (writeFile writes on from the handle's position, all of it)
    await vuln.writeFile(headers.vuln);
    await alias.writeFile(headers.alias);
    for await (const batch of keyedBatches(files, rows, signal)) {
      await vuln.writeFile(Buffer.concat(batch.vuln));
      await alias.writeFile(Buffer.concat(batch.alias));
    }
  } finally {
    await vuln.close();
    await alias.close();
  }
  return spooled;
}

async function readAt(file: FileHandle, at: number, bytes: number): Promise<Buffer> {
  const buf = Buffer.alloc(bytes);
  let done = 0;
  while (done < bytes) {
    const { bytesRead } = await file.read(buf, done, bytes - done, at + done);
    if (bytesRead === 0) break; // past the end: the digest check fails
    done += bytesRead;
  }
  return buf.subarray(0, done);
}
