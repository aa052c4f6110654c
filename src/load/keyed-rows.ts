import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
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
 * A stream of the CSV `header` followed by the `part` (vulnerability or alias rows) of every keyed
 * row, read straight from its place rather than by reading the whole file: each row's bytes in
 * both files are checked against its key's md5 digest (the keys file itself was checked by its
 * sha256), so every byte that reaches the database is one the bundle's builder wrote there. Bytes
 * no row is read from are not checked, as a file of an unchanged updater is not.
 */
export function keyedRowStream(
  files: { vuln: BundleFile; alias: BundleFile; keys: string }, rows: KeyedRows, part: 'vuln' | 'alias', header: string,
): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    yield Buffer.from(header);
    const [vuln, alias] = [await open(files.vuln.abs, 'r'), await open(files.alias.abs, 'r')];
    try {
      for (let from = 0; from < rows.vulnAt.length; from += BATCH) {
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
          return part === 'vuln' ? v : a;
        }));
        yield Buffer.concat(batch);
      }
    } finally {
      await vuln.close();
      await alias.close();
    }
  }
  return Readable.from(generate(), { objectMode: false });
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
