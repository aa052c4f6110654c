import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { BINARY_SIGNATURE, BINARY_TRAILER, int32, writeId } from './binary-values.js';
import { makeTempDir } from './temp-dir.js';

/** The links' directory: PREFIX<host name>-<process id>-<random>, in the temporary directory. */
const PREFIX = 'clair-bundle-links-';
/** Bytes written to a link file at a time, and read back at a time. */
const CHUNK = 1 << 20;
/** A varint of a number below 2^53 takes at most 8 bytes; a pair, 16. */
const PAIR_BYTES = 16;
/** A link row in COPY's binary format: field count, then a bigint and an integer with their lengths. */
const ROW_BYTES = 2 + 12 + 8;

/** `v` (0 <= v < 2^53) at out[o], 7 bits a byte, the lowest first; returns the next offset. */
function writeVarint(out: Buffer, o: number, v: number): number {
  while (v >= 0x80) {
    out[o++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[o++] = v;
  return o;
}

/**
 * One list of links on disk, (record number, name number) pairs added in ascending order: each as
 * the varint of its record number's step from the last pair's, then of its name number (its step
 * from the last pair's when the record number is the same). About 3 bytes a link.
 */
class LinkFile {
  count = 0;
  private fd: number | undefined;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private o = 0;
  private lastOrd = 0;
  private lastName = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'wx', 0o600);
  }

  add(ord: number, name: number): void {
    if (this.o > CHUNK - PAIR_BYTES) this.flush();
    const step = ord - this.lastOrd;
    this.o = writeVarint(this.buf, this.o, step);
    this.o = writeVarint(this.buf, this.o, step === 0 ? name - this.lastName : name);
    this.lastOrd = ord;
    this.lastName = name;
    this.count++;
  }

  close(): void {
    this.flush();
    this.discard();
  }

  /** Closes the file without writing what is left (its directory is being removed). */
  discard(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
  }

  private flush(): void {
    for (let at = 0; at < this.o;) at += writeSync(this.fd!, this.buf, at, this.o - at);
    this.o = 0;
  }
}

/**
 * The `count` links of a LinkFile as rows of a link table in COPY's binary format: (shift + record
 * number, base + name number), a bigint and an integer. Read back chunk by chunk; a file that ends
 * early or goes on fails the stream.
 */
function* linkRows(file: string, count: number, shift: number, base: number): Generator<Buffer> {
  const fd = openSync(file, 'r');
  try {
    const input = Buffer.allocUnsafe(CHUNK + PAIR_BYTES);
    let have = 0;
    let at = 0;
    let ended = false;
    let out = Buffer.allocUnsafe(CHUNK);
    BINARY_SIGNATURE.copy(out, 0);
    let o = BINARY_SIGNATURE.length;
    let ord = 0;
    let name = 0;
    /** The next varint of the input (whose bytes are there: at most PAIR_BYTES a pair). */
    const next = (): number => {
      let v = 0;
      let scale = 1;
      for (;;) {
        if (at >= have) throw new Error(`${file}: the link file ends before its ${count} links`);
        const b = input[at++];
        v += (b & 0x7f) * scale;
        if (b < 0x80) return v;
        scale *= 0x80;
      }
    };
    for (let n = 0; n < count; n++) {
      if (have - at < PAIR_BYTES && !ended) {
        input.copy(input, 0, at, have);
        have -= at;
        at = 0;
        const read = readSync(fd, input, have, CHUNK, null);
        if (read === 0) ended = true;
        have += read;
      }
      const step = next();
      const value = next();
      ord += step;
      name = step === 0 ? name + value : value;
      if (o > CHUNK - ROW_BYTES) {
        yield out.subarray(0, o);
        out = Buffer.allocUnsafe(CHUNK);
        o = 0;
      }
      out[o] = 0;
      out[o + 1] = 2;
      o = writeId(out, o + 2, shift + ord);
      int32(out, o, 4);
      int32(out, o + 4, base + name);
      o += 8;
    }
    if (at < have || readSync(fd, input, 0, 1, null) > 0) throw new Error(`${file}: the link file holds more than its ${count} links`);
    BINARY_TRAILER.copy(out, o);
    yield out.subarray(0, o + BINARY_TRAILER.length);
  } finally {
    closeSync(fd);
  }
}

/**
 * The links of the alias rows of the file copied straight into vuln that the second session
 * numbered (src/load/name-ordinals.ts: each row's vulnerability record number and name number), as
 * sql/load/link-aliases.sql would insert them for rows numbered so: every row of kind 'alias' links
 * its record to its name; the row of kind 'self' with the smallest name number of each record is
 * that record's self. Collected while those rows are copied, in their order (their records'
 * order: the alias file is sorted by hash like the keys that number them), each record's links
 * sorted by name number, into two files under the temporary directory (about 3 bytes a link: 27 M
 * links, some 80 MB), not in memory. Once the load knows the shift of the records' ids and the base
 * of the names' (sql/load/pipe-aliases-begin.sql), links() and selfLinks() stream them into COPYs of
 * vulnerability_alias and vulnerability_self in COPY's binary format: no second session's query
 * sorts them and sends them row by row (9 M records: about twice as fast), and the link tables get
 * their rows in their primary keys' order.
 *
 * Rows in another order (a record number smaller than the one before), or a numbered row without a
 * name number, or a file that cannot be written, make them unusable (`usable` is false, the files
 * are gone): link-aliases.sql then links those rows itself.
 */
export class AliasLinks {
  /** Why the links cannot be used, once they cannot. */
  unusable: string | undefined;
  private readonly dir: string;
  private readonly aliases: LinkFile;
  private readonly selves: LinkFile;
  private finished = false;
  /** The record whose rows come now (0: none yet), its alias rows' name numbers, its smallest self. */
  private ord = 0;
  private names = new Int32Array(64);
  private named = 0;
  private self = 0;

  /**
   * Undefined (`reason` says why) when the temporary directory cannot be written. The directories
   * that loads on this host left there when they were killed (kill -9: their process is gone) are
   * removed first.
   */
  static create(reason?: (err: Error) => void): AliasLinks | undefined {
    let dir: string | undefined;
    try {
      dir = makeTempDir(PREFIX);
      return new AliasLinks(dir);
    } catch (err) {
      if (dir) rmSync(dir, { recursive: true, force: true });
      reason?.(err as Error);
      return undefined;
    }
  }

  private constructor(dir: string) {
    this.dir = dir;
    this.aliases = new LinkFile(path.join(dir, 'aliases'));
    this.selves = new LinkFile(path.join(dir, 'selves'));
  }

  /** Both lists are complete and can be streamed. */
  get usable(): boolean {
    return this.finished && this.unusable === undefined;
  }

  get linkCount(): number {
    return this.aliases.count;
  }

  get selfCount(): number {
    return this.selves.count;
  }

  /** The next row: its record's number (0: not numbered, no link), its name's, whether it is a self. */
  add(ord: number, name: number, self: boolean): void {
    if (this.unusable !== undefined || ord === 0) return;
    if (name === 0) return this.giveUp('a numbered alias row without a name number');
    if (ord !== this.ord) {
      if (ord < this.ord) return this.giveUp('alias rows out of their records\' order');
      this.endRecord();
      this.ord = ord;
    }
    if (self) {
      if (this.self === 0 || name < this.self) this.self = name;
      return;
    }
    if (this.named === this.names.length) {
      const names = new Int32Array(2 * this.named);
      names.set(this.names);
      this.names = names;
    }
    this.names[this.named++] = name;
  }

  /** After the last row: the lists are complete. */
  finish(): void {
    if (this.unusable !== undefined) return;
    try {
      this.endRecord();
      this.aliases.close();
      this.selves.close();
      this.finished = true;
    } catch (err) {
      this.giveUp(`cannot write ${this.dir}: ${(err as Error).message}`);
    }
  }

  /** The alias links as vulnerability_alias rows (vulnerability, alias) in COPY's binary format. */
  links(shift: number, base: number): Readable {
    return Readable.from(linkRows(this.aliases.file, this.aliases.count, shift, base), { objectMode: false });
  }

  /** The selves as vulnerability_self rows (vulnerability, self) in COPY's binary format. */
  selfLinks(shift: number, base: number): Readable {
    return Readable.from(linkRows(this.selves.file, this.selves.count, shift, base), { objectMode: false });
  }

  /** Removes the files (also those of links that were not used). */
  remove(): void {
    for (const f of [this.aliases, this.selves]) {
      try {
        f.discard();
      } catch {
        // (closing a file being thrown away)
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private endRecord(): void {
    if (this.ord === 0) return;
    try {
      const names = this.names;
      const n = this.named;
      // A record has a few aliases: sorted in place (no view of the array to allocate per record).
      if (n > 16) names.subarray(0, n).sort();
      else {
        for (let i = 1; i < n; i++) {
          const v = names[i];
          let j = i - 1;
          for (; j >= 0 && names[j] > v; j--) names[j + 1] = names[j];
          names[j + 1] = v;
        }
      }
      for (let i = 0; i < n; i++) this.aliases.add(this.ord, names[i]);
      if (this.self !== 0) this.selves.add(this.ord, this.self);
    } catch (err) {
      this.giveUp(`cannot write ${this.dir}: ${(err as Error).message}`);
    }
    this.named = 0;
    this.self = 0;
  }

  private giveUp(reason: string): void {
    this.unusable = reason;
    try {
      this.remove();
    } catch {
      // (removed again at the end of the load)
    }
  }
}
