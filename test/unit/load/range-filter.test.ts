import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { RangeFilter, type Ranges } from '../../../src/load/range-filter.js';

const ranges = (list: [number, number][]): Ranges => ({
  at: Float64Array.from(list, (r) => r[0]), bytes: Float64Array.from(list, (r) => r[1]),
});

/** The file cut into chunks of `size` bytes, through a RangeFilter. */
async function filtered(text: string, size: number, r: Ranges, head: number): Promise<string> {
  const bytes = Buffer.from(text);
  const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  return (await buffer(Readable.from(chunks).pipe(new RangeFilter(r, head)))).toString();
}

describe('RangeFilter', () => {
  const file = 'h1,h2\nrow-0\nrow-1\nrow-2\nrow-3\n';
  // header: 6 bytes; row i: 6 bytes at 6 + 6 i.
  it.each([1, 2, 5, 7, 64])('passes the header and exactly the listed rows, whatever the chunk size (%i)', async (size) => {
    expect(await filtered(file, size, ranges([[12, 6], [24, 6]]), 6)).toBe('h1,h2\nrow-1\nrow-3\n');
    expect(await filtered(file, size, ranges([]), 6)).toBe('h1,h2\n');
    expect(await filtered(file, size, ranges([[6, 6], [12, 0], [12, 6], [18, 6], [24, 6]]), 6)).toBe(file);
  });

  it('fails when a range reaches past the end of the file', async () => {
    await expect(filtered(file, 4, ranges([[24, 7]]), 6)).rejects.toThrow(/past the end of the file/);
    await expect(filtered(file, 4, ranges([[40, 6]]), 6)).rejects.toThrow(/past the end of the file/);
  });
});
