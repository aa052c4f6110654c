import path from 'node:path';
import { writeBundle, type SourcedOutput } from './bundle/write.js';
import type { Manifest, ManifestSource } from './bundle/manifest.js';
import { FeedError, UsageError } from './errors.js';
import { readFetchRecord, writeFetchRecord, type FetchRecord } from './feeds/fetch-record.js';
import { feedById, feeds } from './feeds/index.js';
import type { Feed, FeedContext } from './feeds/types.js';
import type { Logger } from './log.js';
import { TARGETS } from './version.js';

export interface FeedSelection {
  sources?: readonly string[];
  options?: Readonly<Record<string, string>>;
}

/** The feeds named by --source, or every feed that is on by default. */
export function selectFeeds(sources: readonly string[] | undefined): Feed[] {
  if (!sources || sources.length === 0) return feeds.filter((f) => !f.optIn);
  return sources.map((id) => {
    const feed = feedById(id);
    if (!feed) throw new UsageError(`unknown source "${id}" (known: ${feeds.map((f) => f.id).join(', ') || 'none'})`);
    return feed;
  });
}

/** Without --source, build takes every source the mirror holds a fetch record for. */
async function fetchedFeeds(mirror: string): Promise<Feed[]> {
  const present: Feed[] = [];
  for (const feed of feeds) if (await readFetchRecord(mirror, feed.id)) present.push(feed);
  if (present.length === 0) {
    throw new FeedError(`${mirror} holds no fetched source (no .fetch/<source>.json)`, { hint: `run: clair-bundle fetch --mirror ${mirror}` });
  }
  return present;
}

export function feedContext(mirror: string, log: Logger, options: Readonly<Record<string, string>> = {}): FeedContext {
  return { mirror, partDir: (part) => path.join(mirror, part), log, options };
}

export interface BuildOptions extends FeedSelection {
  mirror: string;
  out: string;
  target?: string;
  log: Logger;
  sortChunkSize?: number;
}

/**
 * When the mirror's content of a feed last changed: the newest download of any of its files.
 * A re-fetch answered with 304s keeps it, so the same upstream content gives the same bundle bytes.
 */
function contentTime(record: FetchRecord): string {
  return record.files.map((f) => f.fetchedAt).sort().at(-1) ?? record.fetchedAt;
}

function manifestSource(record: FetchRecord): ManifestSource {
  return {
    name: record.feed, urls: record.baseUrls, fetched_at: contentTime(record),
    files: record.files.map((f) => ({ part: f.part, path: f.path, url: f.url, etag: f.etag, last_modified: f.lastModified, sha256: f.sha256 })),
  };
}

/** Builds a bundle from a mirror; never touches the network. */
export async function buildBundle(opts: BuildOptions): Promise<Manifest> {
  const target = opts.target ?? TARGETS[0];
  if (!(TARGETS as readonly string[]).includes(target)) throw new UsageError(`unknown --target ${target} (known: ${TARGETS.join(', ')})`);
  const selected = opts.sources?.length ? selectFeeds(opts.sources) : await fetchedFeeds(opts.mirror);
  for (const feed of selected) {
    if (!(feed.targets ?? [TARGETS[0]]).includes(target)) {
      throw new UsageError(`source ${feed.id} cannot build rows for --target ${target} yet (supported: ${(feed.targets ?? [TARGETS[0]]).join(', ')})`);
    }
  }
  const records: FetchRecord[] = [];
  for (const feed of selected) {
    const record = await readFetchRecord(opts.mirror, feed.id);
    if (!record) {
      throw new FeedError(`no fetch record for source ${feed.id} in ${opts.mirror}`, {
        place: { feed: feed.id, file: `.fetch/${feed.id}.json` }, hint: `run: clair-bundle fetch --mirror ${opts.mirror} --source ${feed.id}`,
      });
    }
    records.push(record);
  }
  // Same mirror in, same bytes out: the bundle's time is the newest content download, not "now".
  const created = records.map(contentTime).sort().at(-1) ?? new Date(0).toISOString();
  const ctx = feedContext(opts.mirror, opts.log, { ...opts.options, target });
  async function* outputs(): AsyncGenerator<SourcedOutput> {
    for (const feed of selected) {
      for await (const output of feed.parse(ctx)) yield { ...output, source: feed.id };
    }
  }
  return writeBundle({
    out: opts.out, created, target, sources: records.map(manifestSource), outputs: outputs(), log: opts.log,
    sortChunkSize: opts.sortChunkSize,
  });
}

export interface FetchOptions extends FeedSelection {
  mirror: string;
  urls?: Readonly<Record<string, string>>;
  log: Logger;
  signal?: AbortSignal;
}

/** Downloads the selected feeds into the mirror. */
export async function fetchFeeds(opts: FetchOptions): Promise<void> {
  const selected = selectFeeds(opts.sources);
  const known = new Set(selected.flatMap((f) => Object.keys(f.parts)));
  for (const part of Object.keys(opts.urls ?? {})) {
    if (!known.has(part)) throw new UsageError(`--url ${part}=…: no selected source has a part named ${part} (parts: ${[...known].join(', ')})`);
  }
  for (const feed of selected) {
    const baseUrls = Object.fromEntries(Object.entries(feed.parts).map(([part, url]) => [part, opts.urls?.[part] ?? url]));
    opts.log.info('fetching', { source: feed.id });
    await feed.fetch({ ...feedContext(opts.mirror, opts.log, opts.options), baseUrls, signal: opts.signal });
  }
}

export { writeFetchRecord };
