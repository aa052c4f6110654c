import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { ChunkWatcher } from '../bundle/file-check.js';

/**
 * Reads `file` into `into`, and ends it, through ONE buffer of `chunkSize` bytes: the next read
 * waits until `into` took the chunk before (its write callback), and goes into the same buffer.
 * Only for a consumer that copies what it keeps of a chunk before it calls back, as CsvToCopyText
 * and CsvToCopyBinary do (each converts a chunk into an output buffer of its own).
 *
 * A read stream allocates a new buffer for each read instead. For the 9 M-row file, whose COPY
 * output is about as many bytes again, node allocated about 18 GB of buffers in 35-45 s, and V8
 * runs a full collection after every 64 MB of such memory (node's CPU during that COPY, which
 * shares two cores with the backend's: 30-31 s with one buffer against 31-32 s).
 *
 * `watch` sees each chunk before `into` does and the end before `into` is ended (a checksum: its
 * error then fails `into` before its last records go out). Never rejects: a failure (reading,
 * `watch`) destroys `into` with it, whose consumer reports it; a destroyed `into` stops the reads.
 */
export async function pumpFile(file: string, into: Writable, chunkSize: number, watch?: ChunkWatcher): Promise<void> {
  const closed = new Promise<void>((resolve) => into.once('close', resolve));
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file);
    const buf = Buffer.allocUnsafeSlow(chunkSize);
    for (;;) {
      if (into.destroyed) return;
      const { bytesRead } = await handle.read(buf, 0, chunkSize, null);
      if (into.destroyed) return;
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      watch?.update(chunk);
      // (A destroyed `into` may never call back: then its 'close' ends the wait, and the loop.)
      await Promise.race([new Promise<void>((resolve) => into.write(chunk, () => resolve())), closed]);
    }
    watch?.end();
    into.end();
  } catch (err) {
    into.destroy(err as Error);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
