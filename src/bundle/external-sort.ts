import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/**
 * Sorts records by key without holding them all in memory: runs of `chunkSize` records are
 * sorted and spilled to temporary files, then merged. Records with equal keys come out grouped,
 * in input order (the sort is stable), which is what "first record wins" needs.
 */
export interface Keyed<T> {
  key: string;
  value: T;
}

export interface SortOptions {
  chunkSize?: number;
  tmpDir?: string;
}

function byKey<T>(a: Keyed<T>, b: Keyed<T>): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

async function spill<T>(chunk: Keyed<T>[], file: string): Promise<void> {
  const out = createWriteStream(file);
  for (const item of chunk) {
    if (!out.write(JSON.stringify([item.key, item.value]) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function* readRun<T>(file: string): AsyncGenerator<Keyed<T>> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    const [key, value] = JSON.parse(line) as [string, T];
    yield { key, value };
  }
}

/** Yields groups of values sharing a key, keys ascending, values in input order. */
export async function* sortGrouped<T>(input: AsyncIterable<Keyed<T>>, opts: SortOptions = {}): AsyncGenerator<Keyed<T[]>> {
  const chunkSize = opts.chunkSize ?? 200_000;
  let chunk: Keyed<T>[] = [];
  const runs: string[] = [];
  let dir: string | undefined;
  try {
    for await (const item of input) {
      chunk.push(item);
      if (chunk.length >= chunkSize) {
        dir ??= await mkdtemp(path.join(opts.tmpDir ?? os.tmpdir(), 'clair-bundle-sort-'));
        chunk.sort(byKey);
        const file = path.join(dir, `run-${runs.length}.jsonl`);
        await spill(chunk, file);
        runs.push(file);
        chunk = [];
      }
    }
    chunk.sort(byKey);
    const sources: AsyncIterator<Keyed<T>>[] = runs.map((f) => readRun<T>(f)[Symbol.asyncIterator]());
    sources.push((async function* () { yield* chunk; })());
    yield* group(merge(sources));
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** k-way merge; ties go to the earlier source, so input order is kept. */
async function* merge<T>(sources: AsyncIterator<Keyed<T>>[]): AsyncGenerator<Keyed<T>> {
  const heads: (Keyed<T> | undefined)[] = await Promise.all(sources.map(async (s) => (await s.next()).value as Keyed<T> | undefined));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h && (best < 0 || h.key < heads[best]!.key)) best = i;
    }
    if (best < 0) return;
    yield heads[best]!;
    const next = await sources[best].next();
    heads[best] = next.done ? undefined : next.value;
  }
}

async function* group<T>(items: AsyncIterable<Keyed<T>>): AsyncGenerator<Keyed<T[]>> {
  let current: Keyed<T[]> | undefined;
  for await (const { key, value } of items) {
    if (current && current.key === key) {
      current.value.push(value);
      continue;
    }
    if (current) yield current;
    current = { key, value: [value] };
  }
  if (current) yield current;
}
