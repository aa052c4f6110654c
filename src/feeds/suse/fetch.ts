import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readFetchRecord } from '../fetch-record.js';
import { fetchOvalFile, fetchOvalFiles, ovalBase, writeOvalFetchRecord, type OvalMirror } from '../oval/fetch.js';
import type { FetchContext } from '../types.js';
import { DEFAULT_BASE_URL, FEED, INDEX_FILE, PART, discoverReleases, selectReleases } from './upstream.js';

/**
 * claircore's SUSE factory and updaters: GET the OVAL directory page (kept as `index.html`;
 * any failure, 404 included, fails the fetch as it fails claircore's whole set), discover the
 * updaters from its links, then one conditional GET per updater's `.xml.gz`.
 */
export async function fetchSuse(ctx: FetchContext): Promise<void> {
  const m: OvalMirror = { ctx, feed: FEED, part: PART, base: ovalBase(ctx, PART, DEFAULT_BASE_URL) };
  const prev = await readFetchRecord(ctx.mirror, FEED);
  const index = await fetchOvalFile(m, prev, m.base, INDEX_FILE);
  const html = await readFile(path.join(ctx.partDir(PART), INDEX_FILE), 'utf8');
  const display = `${PART}/${INDEX_FILE}`;
  const releases = selectReleases(discoverReleases(html, m.base, display), ctx.options, display);
  const { files, absent, outcomes } = await fetchOvalFiles(m, prev, releases.map((r) => [r.relPath, r.url] as const));
  await writeOvalFetchRecord(m, prev, [index.record, ...files], absent);
  ctx.log.info('fetched suse', { feed: FEED, base: m.base, updaters: releases.map((r) => r.updater), files: files.length, absent: absent.length, ...outcomes });
}
