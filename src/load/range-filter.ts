import { Transform, type TransformCallback } from 'node:stream';

/**
 * Byte ranges of a file, in file order, that do not overlap: `at[i]` is where range i starts,
 * `bytes[i]` how long it is (empty ranges are skipped).
 */
export interface Ranges {
  at: Float64Array;
  bytes: Float64Array;
}

/**
 * Passes on only the bytes of a file that lie in `ranges` (plus its first `head` bytes: the CSV
 * header), dropping everything else: a keyed refresh copies a few rows of a big CSV without
 * parsing it. Every byte still flows in, so a checking stream ahead of it still sees the whole file.
 */
export class RangeFilter extends Transform {
  private pos = 0;
  private i = 0;

  constructor(private readonly ranges: Ranges, private readonly head: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const start = this.pos;
    const end = start + chunk.length;
    this.pos = end;
    if (start < this.head) this.push(chunk.subarray(0, Math.min(chunk.length, this.head - start)));
    const { at, bytes } = this.ranges;
    while (this.i < at.length) {
      const from = Math.max(at[this.i], this.head, start);
      const to = at[this.i] + bytes[this.i];
      if (from >= end) break;
      if (to > from) this.push(chunk.subarray(from - start, Math.min(to, end) - start));
      if (to > end) break; // continues in the next chunk
      this.i++;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    const i = this.i;
    if (i < this.ranges.at.length && this.ranges.at[i] + this.ranges.bytes[i] > this.pos) {
      done(new Error(`a row key points past the end of the file (byte ${this.ranges.at[i]} of ${this.pos})`));
      return;
    }
    done();
  }
}
