import { Readable } from 'node:stream';
import type { AliasLinks } from './alias-links.js';
import { CopyTextRecords, writeNumber } from './csv-to-copy-text.js';

const TAB = 0x09;
const NEWLINE = 0x0a;
const ZERO = 0x30;
const BACKSLASH = 0x5c;
const CAPITAL_N = 0x4e;
/** The kinds 'self' and 'alias' as COPY's text format writes them. */
const SELF = Buffer.from('self');
const ALIAS = Buffer.from('alias');
/** Distinct names kept at most (about 40 bytes of memory each): past this many the numbering gives up. */
export const MAX_NAMES = 1_000_000;

/**
 * Numbers the alias names of an alias file on its way to COPY, after CsvToCopyText turned it into
 * COPY's text format with its vulnerability records' numbers (src/load/alias-ordinals.ts): each
 * record `hash, kind, namespace, name, ord` gets one more field, the number of its (namespace, name)
 * in the order the names first appear (1, 2, …). `names()` then lists each name once with its number,
 * for stage_alias_name_next, so that link-aliases.sql can give the load's new names the ids
 * base + number and link millions of alias rows without looking their names up
 * (sql/load/link-aliases.sql).
 *
 * Names are compared as the bytes COPY receives (a field's escapes included: the same value is
 * always written the same way). Past `limit` distinct names it gives up: the rest get NULL and
 * `names()` is undefined, so the load looks every name up as before. A record without five fields
 * (which CsvToCopyText does not pass on from a checked bundle) fails the stream.
 *
 * `links`, if given, gets each record's link as it goes: its record number, its name's number and
 * whether it is a 'self' (src/load/alias-links.ts).
 *
 * `keep` passes on only some records. A record is *linkable* when it has both numbers and a kind,
 * namespace and name that stage_alias's checks accept ('self' or 'alias'; neither NULL nor empty):
 * its links are then all link-aliases.sql needs of it, when the load can pipe them in
 * (sql/load/pipe-aliases-begin.sql). 'unlinked' passes on the others (`linked` counts those it
 * left out); 'linked' passes on only those (read again, for a load that cannot pipe them). A
 * numbered record that is passed on without a name number makes `links` unusable (a record
 * linkable but for its kind or names is rejected by COPY). Whether a record is linkable depends
 * only on the file (and its keys file), so two reads split it the same way. `findRow`: the number
 * (from 1) of a record passed on, whose number in the file is then `foundAt` (a rejected row's
 * place).
 */
export class NameOrdinals extends CopyTextRecords {
  /** The names, their bytes one after the other: name n (from 1) is at starts[n - 1] … starts[n]. */
  private arena: Buffer = Buffer.allocUnsafe(1 << 20);
  private starts = new Int32Array(1 << 16);
  private named = 0;
  /** Open addressing: slot k is table[2k] (a name's number, 0 when empty) and table[2k + 1] (its hash). */
  private table = new Int32Array(1 << 17);
  private gaveUp = false;
  /** Linkable records left out ('unlinked'). */
  linked = 0;
  /** The file's number of the record `findRow`, once passed on. */
  foundAt: number | undefined;
  /** Records read, passed on. */
  private seen = 0;
  private passed = 0;

  constructor(
    private readonly file: string, private readonly limit = MAX_NAMES, private readonly links?: AliasLinks,
    private readonly keep?: 'unlinked' | 'linked', private readonly findRow?: number,
  ) {
    super();
  }

  /** How many distinct names were numbered. */
  get count(): number {
    return this.named;
  }

  protected override unfinished(): Error {
    return new Error(`${this.file}: the converted alias rows end without a newline`);
  }

  /** The numbered names as COPY text rows (namespace, name, number); undefined if it gave up. */
  names(): Readable | undefined {
    if (this.gaveUp) return undefined;
    const { arena, starts } = this;
    const count = this.named;
    return Readable.from((function* () {
      for (let first = 1; first <= count; first += 4096) {
        const last = Math.min(count, first + 4095);
        const out = Buffer.allocUnsafe(starts[last] - starts[first - 1] + 9 * (last - first + 1));
        let o = 0;
        for (let n = first; n <= last; n++) {
          o += arena.copy(out, o, starts[n - 1], starts[n]);
          out[o++] = TAB;
          o += out.write(String(n), o, 'latin1');
          out[o++] = NEWLINE;
        }
        yield out.subarray(0, o);
      }
    })());
  }

  /** The number of the name `buf[from, to)`, a new one if unseen; 0 once it gave up. */
  private ordOf(buf: Buffer, from: number, to: number, hash: number): number {
    if (this.gaveUp) return 0;
    const { table, starts, arena } = this;
    const mask = (table.length >> 1) - 1;
    const len = to - from;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const n = table[2 * slot];
      if (n === 0) break;
      if (table[2 * slot + 1] !== hash) continue;
      const at = starts[n - 1];
      if (starts[n] - at !== len) continue;
      let k = 0;
      while (k < len && arena[at + k] === buf[from + k]) k++;
      if (k === len) return n;
    }
    return this.add(buf, from, to, hash);
  }

  private add(buf: Buffer, from: number, to: number, hash: number): number {
    if (this.named >= this.limit) {
      this.gaveUp = true;
      this.arena = Buffer.alloc(0);
      this.table = new Int32Array(0);
      return 0;
    }
    const len = to - from;
    const n = ++this.named;
    if (n + 1 >= this.starts.length) {
      const starts = new Int32Array(this.starts.length * 2);
      starts.set(this.starts);
      this.starts = starts;
    }
    const at = this.starts[n - 1];
    if (at + len > this.arena.length) {
      const arena = Buffer.allocUnsafe(Math.max(2 * this.arena.length, at + len));
      this.arena.copy(arena, 0, 0, at);
      this.arena = arena;
    }
    buf.copy(this.arena, at, from, to);
    this.starts[n] = at + len;
    // At most half the slots in use.
    if (4 * n > this.table.length) {
      const old = this.table;
      this.table = new Int32Array(old.length * 2);
      for (let slot = 0; 2 * slot < old.length; slot++) if (old[2 * slot] !== 0) this.place(old[2 * slot], old[2 * slot + 1]);
    }
    this.place(n, hash);
    return n;
  }

  /** Puts name n (with its hash) into the first free slot from its own. */
  private place(n: number, hash: number): void {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let slot = hash & mask;
    while (table[2 * slot] !== 0) slot = (slot + 1) & mask;
    table[2 * slot] = n;
    table[2 * slot + 1] = hash;
  }

  protected override records(buf: Buffer, end: number): Buffer {
    // Each record grows by a tab and at most 7 digits (MAX_NAMES) or `\N`: 8 bytes; it holds at
    // least its four tabs and its newline.
    const out = Buffer.allocUnsafe(Math.ceil((end * 13) / 5));
    const keep = this.keep;
    let o = 0;
    let i = 0;
    while (i < end) {
      const start = o;
      // The first two fields as they are, then namespace and name (fields 3 and 4, up to the
      // fourth tab), hashed on the way, then the record number (field 5) and the name's number.
      const t1 = buf.indexOf(TAB, i);
      if (t1 < 0 || t1 >= end) throw this.malformed();
      o += buf.copy(out, o, i, t1 + 1);
      i = t1 + 1;
      const kind = i;
      let b = 0;
      while (i < end && (b = buf[i]) !== TAB && b !== NEWLINE) out[o++] = buf[i++];
      if (b !== TAB) throw this.malformed();
      // (Byte by byte: Buffer.compare's call costs more than these few bytes.)
      const self = i - kind === 4 && buf[kind] === SELF[0] && buf[kind + 1] === SELF[1] && buf[kind + 2] === SELF[2] && buf[kind + 3] === SELF[3];
      const kindChecked = self || (i - kind === 5 && buf[kind] === ALIAS[0] && buf[kind + 1] === ALIAS[1] && buf[kind + 2] === ALIAS[2]
        && buf[kind + 3] === ALIAS[3] && buf[kind + 4] === ALIAS[4]);
      out[o++] = TAB;
      const from = ++i;
      let h = 0x811c9dc5;
      let tabs = 2;
      let between = 0;
      while (i < end) {
        b = buf[i];
        if (b === NEWLINE) break;
        if (b === TAB) {
          if (++tabs === 4) break;
          between = i;
        }
        h = Math.imul(h ^ b, 0x01000193);
        out[o++] = b;
        i++;
      }
      if (b !== TAB || tabs !== 4) throw this.malformed();
      const to = i;
      out[o++] = TAB;
      i++;
      // The record number: digits, or `\N` (none: 0).
      let record = 0;
      while ((b = buf[i]) !== NEWLINE) {
        record = b >= ZERO && b <= ZERO + 9 ? record * 10 + b - ZERO : 0;
        out[o++] = buf[i++];
      }
      i++;
      const ord = this.ordOf(buf, from, to, h);
      out[o++] = TAB;
      o = writeNumber(out, o, ord);
      out[o++] = NEWLINE;
      this.seen++;
      this.links?.add(record, ord, self);
      if (keep !== undefined) {
        const linkable = record > 0 && ord > 0 && kindChecked && isValue(buf, from, between) && isValue(buf, between + 1, to);
        if (linkable === (keep === 'unlinked')) {
          o = start;
          if (linkable) this.linked++;
          continue;
        }
      }
      if (++this.passed === this.findRow) this.foundAt = this.seen;
    }
    return out.subarray(0, o);
  }

  private malformed(): Error {
    return new Error(`${this.file}: a converted alias row without its five fields`);
  }
}

/** A COPY text field `buf[from, to)` that stage_alias's checks accept: neither NULL (`\N`) nor empty. */
function isValue(buf: Buffer, from: number, to: number): boolean {
  return to > from && !(to - from === 2 && buf[from] === BACKSLASH && buf[from + 1] === CAPITAL_N);
}
