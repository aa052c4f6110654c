import { closeSync, openSync, readSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { BundleError } from '../errors.js';

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const X = 0x78;
const CHUNK = 256 * 1024;

/**
 * A bundle file read again, chunk by chunk and synchronously (a local file, read in the middle of
 * converting another one: src/load/csv-to-copy-text.ts), that must still be the file the manifest
 * lists: at its end, its sha256 is compared (BundleError, exit 3).
 */
export class FileAgain {
  private fd: number | undefined;
  private readonly hash: Hash = createHash('sha256');

  constructor(abs: string, private readonly expected: { path: string; sha256: string }, private readonly chunkSize = CHUNK) {
    this.fd = openSync(abs, 'r');
  }

  /** The next chunk; undefined at the end (checked) and after close(). */
  read(): Buffer | undefined {
    if (this.fd === undefined) return undefined;
    const buf = Buffer.allocUnsafe(this.chunkSize);
    const n = readSync(this.fd, buf, 0, this.chunkSize, null);
    if (n > 0) {
      const chunk = buf.subarray(0, n);
      this.hash.update(chunk);
      return chunk;
    }
    this.close();
    if (this.hash.digest('hex') !== this.expected.sha256) {
      throw new BundleError(`${this.expected.path} changed while it was being loaded (read again, it no longer matches its checksum in the manifest)`, {
        place: { file: this.expected.path },
      });
    }
    return undefined;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The record numbers of a vulnerability file's hashes, from its row keys file (bundle keys/*.csv:
 * record n holds the hash of the vulnerability file's record n), for the alias file of the updater
 * copied straight into vuln: asked for the hashes of the alias records in their order, which is
 * the keys' order (contract: bundle CSVs are sorted by hash), it reads the keys once. A hash is
 * numbered only by the key with the same hash; one with none, or any once the keys end, gets 0.
 * Every record of a keys file the build wrote is `"\x<hex>",…` on a line of its own; at the first
 * that is not (another writer, a damaged file), the keys end: what follows is not numbered, never
 * numbered wrongly.
 */
export class KeyOrdinals {
  /** Hashes that got a number. */
  numbered = 0;
  private buf: Buffer = Buffer.alloc(0);
  private at = 0;
  /** The current key: its hash in hex (`\x` left off) is buf[hexStart, hexEnd); record number. */
  private hexStart = 0;
  private hexEnd = -1;
  private record = 0;
  private ended = false;
  private started = false;
  private inHeader = true;

  constructor(private readonly file: FileAgain) {}

  /**
   * The record number of the hash in `buf` from `start` to `end`, a field in COPY's text format
   * (`\\x<hex>`); 0 when it is not one or no key has it.
   */
  ordOf(buf: Buffer, start: number, end: number): number {
    if (end - start < 4 || buf[start] !== BACKSLASH || buf[start + 1] !== BACKSLASH || buf[start + 2] !== X) return 0;
    if (!this.started) {
      this.started = true;
      this.next();
    }
    let c = this.compare(buf, start + 3, end);
    while (c < 0) {
      this.next();
      c = this.compare(buf, start + 3, end);
    }
    if (c !== 0) return 0;
    this.numbered++;
    return this.record;
  }

  /** Reads the rest of the keys file, which checks it. */
  finish(): void {
    this.ended = true;
    while (this.file.read());
  }

  close(): void {
    this.file.close();
  }

  /** The current key's hash against hex bytes (as Buffer.compare); positive when no key is left. */
  private compare(buf: Buffer, start: number, end: number): number {
    if (this.ended) return 1;
    const keyLength = this.hexEnd - this.hexStart;
    const n = Math.min(keyLength, end - start);
    const key = this.buf;
    for (let i = 0; i < n; i++) {
      const d = key[this.hexStart + i] - buf[start + i];
      if (d !== 0) return d;
    }
    return keyLength - (end - start);
  }

  private next(): void {
    while (!this.ended) {
      const nl = this.buf.indexOf(NEWLINE, this.at);
      if (nl < 0) {
        const chunk = this.file.read();
        const left = this.buf.subarray(this.at);
        this.at = 0;
        if (chunk) this.buf = left.length > 0 ? Buffer.concat([left, chunk]) : chunk;
        else if (left.length > 0) this.buf = Buffer.concat([left, Buffer.from('\n')]); // a last record without its newline
        else this.ended = true;
        continue;
      }
      const start = this.at;
      this.at = nl + 1;
      if (this.inHeader) {
        this.inHeader = false;
        continue;
      }
      const close = this.buf.indexOf(QUOTE, start + 3);
      if (this.buf[start] !== QUOTE || this.buf[start + 1] !== BACKSLASH || this.buf[start + 2] !== X || close < 0 || close > nl
        || this.buf[close + 1] !== COMMA) {
        this.ended = true;
        return;
      }
      this.hexStart = start + 3;
      this.hexEnd = close;
      this.record++;
      return;
    }
  }
}
