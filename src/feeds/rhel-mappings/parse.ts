import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FeedError, describePlace, type ErrorPlace } from '../../errors.js';
import { toUtcInstant } from '../../model/go-time.js';
import { findFileRecord, readFetchRecord, type FetchRecord } from '../fetch-record.js';
import type { FeedOutput, MappingOutput, ParseContext } from '../types.js';
import { FEED, MAPPING_FILES, PART } from './fetch.js';
import { MappingShapeError, NAME2REPOS, checkContainerNameReposMap, checkRepositoryToCpe, type MappingSummary } from './upstream.js';

/**
 * Validates the mapping documents in the mirror and yields one MappingOutput each. A file
 * the fetch record marks as absent upstream is skipped with a warning; any other missing
 * file is a FeedError. The upstream date is the document's `last_updated`, else the
 * recorded Last-Modified, else ''.
 */
const CHECKS: Record<string, (doc: unknown) => MappingSummary> = {
  [NAME2REPOS]: checkContainerNameReposMap,
};

export async function* parseRhelMappings(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  for (const { name } of MAPPING_FILES) {
    if (rec?.absent?.some((a) => a.part === PART && a.path === name)) {
      ctx.log.warn('mapping absent upstream at fetch time; not bundled', { feed: FEED, file: name });
      continue;
    }
    yield await checkMapping(path.join(ctx.partDir(PART), name), name, rec);
  }
}

export async function checkMapping(file: string, name: string, rec: FetchRecord | null): Promise<MappingOutput> {
  const place: ErrorPlace = { feed: FEED, file: `${PART}/${name}` };
  const fail = (text: string, cause?: unknown, record?: string) => {
    const p = { ...place, record };
    return new FeedError(`${describePlace(p)}: ${text}`, { place: p, cause, hint: `run \`clair-bundle fetch --source ${FEED}\`` });
  };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw fail(`missing from the mirror (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw fail(`malformed JSON: ${(err as Error).message}`, err);
  }
  let summary: MappingSummary;
  try {
    summary = (CHECKS[name] ?? checkRepositoryToCpe)(doc);
  } catch (err) {
    if (err instanceof MappingShapeError) throw fail(`unexpected shape: ${err.message}`, err, err.path);
    throw err;
  }
  return { type: 'mapping', name, path: file, upstreamDate: upstreamDate(summary.lastUpdated, findFileRecord(rec, PART, name)?.lastModified) };
}

function upstreamDate(lastUpdated: string, lastModified: string | undefined): string {
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(lastUpdated)) return lastUpdated;
  const t = lastModified ? new Date(lastModified) : undefined;
  return t && !Number.isNaN(t.getTime()) ? toUtcInstant(t) : '';
}
