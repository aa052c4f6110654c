import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { csvLine } from '../../../src/bundle/csv.js';
import { sortGrouped } from '../../../src/bundle/external-sort.js';
import { updaterFileStem } from '../../../src/bundle/manifest.js';

describe('CSV encoder', () => {
  it('quotes every string so COPY keeps empty strings, writes null unquoted', () => {
    expect(csvLine(['a', '', null])).toBe('"a","",\n');
  });
  it('round-trips quotes, newlines, backslashes, a lone \\. line and non-ASCII', () => {
    const cells = ['say "hi"', 'two\nlines', 'C:\\path', '\\.', 'x\n\\.\ny', 'ünïcødé ✓'];
    const parsed = parse(csvLine(cells)) as string[][];
    expect(parsed[0]).toEqual(cells);
  });
});

describe('external sort', () => {
  async function* items(keys: string[]) {
    let i = 0;
    for (const key of keys) yield { key, value: i++ };
  }
  it('groups equal keys in input order across spilled runs', async () => {
    const keys = ['c', 'a', 'b', 'a', 'c', 'a', 'd', 'b'];
    const out = [];
    for await (const g of sortGrouped(items(keys), { chunkSize: 3 })) out.push(g);
    expect(out).toEqual([
      { key: 'a', value: [1, 3, 5] }, { key: 'b', value: [2, 7] }, { key: 'c', value: [0, 4] }, { key: 'd', value: [6] },
    ]);
  });
  it('handles empty input', async () => {
    const out = [];
    for await (const g of sortGrouped(items([]), { chunkSize: 2 })) out.push(g);
    expect(out).toEqual([]);
  });
});

describe('updater file names', () => {
  it('are reversible and safe', () => {
    expect(updaterFileStem('debian/updater')).toBe('debian%2Fupdater');
    expect(updaterFileStem('osv/photon os')).toBe('osv%2Fphoton%20os');
    expect(updaterFileStem('alpine-main-v3.20-updater')).toBe('alpine-main-v3.20-updater');
  });
});
