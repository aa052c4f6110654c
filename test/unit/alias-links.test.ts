import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AliasLinks } from '../../src/load/alias-links.js';

// The links of the alias rows the second session numbered, as sql/load/link-aliases.sql would
// insert them for those rows: every numbered row of kind 'alias' is a link (record + shift, name +
// base); of each record's rows of kind 'self', the one with the smallest name number is its self.
// Here the expected links come from that rule applied to the rows directly, and the streams are
// read back as PostgreSQL reads COPY's binary format (signature, rows of two fields, trailer).

interface Row {
  ord: number;
  name: number;
  self: boolean;
}

/** The rule, on rows as a table holds them (no order assumed). */
function expected(rows: Row[], shift: number, base: number): { links: [number, number][]; selves: [number, number][] } {
  const numbered = rows.filter((r) => r.ord !== 0);
  const links = numbered.filter((r) => !r.self).map((r): [number, number] => [shift + r.ord, base + r.name]);
  const smallest = new Map<number, number>();
  for (const r of numbered) if (r.self && !(smallest.get(r.ord)! <= r.name)) smallest.set(r.ord, r.name);
  const selves = [...smallest].map(([ord, name]): [number, number] => [shift + ord, base + name]);
  const byKey = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];
  return { links: links.sort(byKey), selves: selves.sort(byKey) };
}

/** A COPY binary stream's rows (bigint, integer), as PostgreSQL would read them; fails on anything else. */
async function readBinary(stream: Readable): Promise<[number, number][]> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  expect(buf.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
  expect(buf.readInt32BE(11)).toBe(0);
  expect(buf.readInt32BE(15)).toBe(0);
  const rows: [number, number][] = [];
  let o = 19;
  for (;;) {
    const fields = buf.readInt16BE(o);
    o += 2;
    if (fields === -1) break;
    // (One check per row, not an expect: hundreds of thousands of rows.)
    if (fields !== 2 || buf.readInt32BE(o) !== 8 || buf.readInt32BE(o + 12) !== 4) throw new Error(`not a link row at byte ${o - 2}`);
    rows.push([Number(buf.readBigInt64BE(o + 4)), buf.readInt32BE(o + 16)]);
    o += 20;
  }
  expect(o).toBe(buf.length);
  return rows;
}

/** Rows in their records' order (each record's rows in any order), some not numbered (ord 0). */
function randomRows(records: number, seed: number, maxName = 50_000): Row[] {
  let s = seed;
  const next = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
  const rows: Row[] = [];
  let ord = 0;
  for (let r = 0; r < records; r++) {
    ord += 1 + (next(10) === 0 ? next(1000) : 0);
    const n = next(6);
    for (let i = 0; i < n; i++) {
      // Some names repeat within a record (the same alias twice is two links, as two rows are).
      rows.push({ ord, name: 1 + (next(4) === 0 ? next(3) : next(maxName)), self: next(3) === 0 });
      if (next(50) === 0) rows.push({ ord: 0, name: 1 + next(maxName), self: next(2) === 0 });
    }
  }
  return rows;
}

let tmp: string;
let savedTmp: string | undefined;
beforeEach(() => {
  savedTmp = process.env.TMPDIR;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'alias-links-'));
  process.env.TMPDIR = tmp;
});
afterEach(() => {
  process.env.TMPDIR = savedTmp;
  rmSync(tmp, { recursive: true, force: true });
});

function collect(rows: Row[]): AliasLinks {
  const links = AliasLinks.create()!;
  for (const r of rows) links.add(r.ord, r.name, r.self);
  links.finish();
  return links;
}

describe('AliasLinks', () => {
  it.each([
    ['a few records', 20, 1, 0, 0],
    ['records past a megabyte of links (several chunks each way)', 300_000, 2, 1_000, 7],
    ['ids near 2^53 and names near 2^31', 5_000, 3, Number.MAX_SAFE_INTEGER - 10_000_000, 2 ** 31 - 60_000],
  ])('streams the links and selves of %s as the rule gives them, sorted as the primary keys', async (_, records, seed, shift, base) => {
    const rows = randomRows(records, seed);
    const links = collect(rows);
    expect(links.usable).toBe(true);
    const [dir] = readdirSync(tmp);
    if (records > 100_000) expect(statSync(path.join(tmp, dir, 'aliases')).size).toBeGreaterThan(2 ** 20);
    const want = expected(rows, shift, base);
    expect(links.linkCount).toBe(want.links.length);
    expect(links.selfCount).toBe(want.selves.length);
    expect(await readBinary(links.links(shift, base))).toEqual(want.links);
    expect(await readBinary(links.selfLinks(shift, base))).toEqual(want.selves);
    // Streamed again, the same (the files stay until removed).
    expect(await readBinary(links.selfLinks(shift, base))).toEqual(want.selves);
    links.remove();
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('links no rows: empty streams', async () => {
    const links = collect([{ ord: 0, name: 3, self: true }]);
    expect(links.usable).toBe(true);
    expect(await readBinary(links.links(1, 1))).toEqual([]);
    expect(await readBinary(links.selfLinks(1, 1))).toEqual([]);
    links.remove();
  });

  it.each([
    ['a record number smaller than the one before', [{ ord: 5, name: 1, self: false }, { ord: 4, name: 2, self: false }], "alias rows out of their records' order"],
    ['a numbered row without a name number', [{ ord: 5, name: 1, self: false }, { ord: 6, name: 0, self: true }], 'a numbered alias row without a name number'],
  ])('gives up on %s: not usable, its files gone at once', (_, rows, reason) => {
    const links = collect(rows);
    expect(links.usable).toBe(false);
    expect(links.unusable).toBe(reason);
    expect(readdirSync(tmp)).toEqual([]);
    links.remove();
  });

  it('removes the links\' directories of loads on this host that were killed (their process is gone), and only those', () => {
    const host = os.hostname();
    // (No process has a number past the kernel's pid_max, at most 2^22.)
    const names = [`clair-bundle-links-${host}-99999999-AbC123`, `clair-bundle-links-${host}-${process.pid}-AbC123`,
      'clair-bundle-links-another-host-99999999-AbC123', `clair-bundle-links-${host}-99999999`, 'unrelated-99999999-AbC123'];
    for (const name of names) {
      mkdirSync(path.join(tmp, name));
      writeFileSync(path.join(tmp, name, 'aliases'), 'x');
    }
    const links = AliasLinks.create()!;
    const made = readdirSync(tmp).filter((n) => !names.includes(n));
    expect(made).toEqual([expect.stringMatching(new RegExp(`^clair-bundle-links-${host}-${process.pid}-[A-Za-z0-9]{6}$`))]);
    expect(readdirSync(tmp).sort()).toEqual([...names.slice(1), ...made].sort());
    links.remove();
  });

  it('is not made without a writable temporary directory, and says why', () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, '');
    process.env.TMPDIR = file;
    const reasons: string[] = [];
    expect(AliasLinks.create((err) => reasons.push(err.message))).toBeUndefined();
    expect(reasons).toEqual([expect.stringContaining('ENOTDIR')]);
  });

  it('fails the stream when its file was cut short or grew', async () => {
    const rows = randomRows(2_000, 4);
    const links = collect(rows);
    const [dir] = readdirSync(tmp);
    const file = path.join(tmp, dir, 'aliases');
    writeFileSync(file, Buffer.from([1, 2]), { flag: 'a' });
    await expect(readBinary(links.links(0, 0))).rejects.toThrow(/holds more than its \d+ links/);
    truncateSync(file, 100);
    await expect(readBinary(links.links(0, 0))).rejects.toThrow(/ends before its \d+ links/);
    links.remove();
    expect(existsSync(path.join(tmp, dir))).toBe(false);
  });
});
