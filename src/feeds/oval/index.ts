import { FeedError, describePlace, type ErrorPlace } from '../../errors.js';
import { OvalDecodeError, readOvalDefinitions, readOvalTables, type OvalDefinition, type OvalTables } from './document.js';
import { XmlSyntaxError, openDecompressed, sniffCompression } from './xml.js';

/**
 * The one streaming OVAL reader every OVAL feed uses (spec clair-updaters.md §3): a mirror
 * file (plain, bzip2 or gzip by magic bytes) is read twice, first for its lookup tables, then
 * for its definitions one at a time. Any decode problem is a FeedError naming the feed, the
 * file and the definition or line:column.
 */
export * from './convert.js';
export * from './date.js';
export * from './document.js';

export interface OvalSource {
  /** Absolute path in the mirror. */
  path: string;
  /** Name used in errors (mirror-relative). */
  display: string;
  feed: string;
}

function toFeedError(src: OvalSource, err: unknown, record?: string): FeedError {
  if (err instanceof FeedError) return err;
  const place: ErrorPlace = { feed: src.feed, file: src.display };
  let text: string;
  if (err instanceof XmlSyntaxError) {
    place.record = record ? `${record} (line ${err.line}, column ${err.column})` : `line ${err.line}, column ${err.column}`;
    text = `malformed XML: ${err.message}`;
  } else if (err instanceof OvalDecodeError) {
    place.record = err.record ?? record;
    text = `unable to decode OVAL document: ${err.message}`;
  } else {
    text = `unreadable OVAL document: ${(err as Error).message}`;
  }
  return new FeedError(`${describePlace(place)}: ${text}`, { place, cause: err });
}

/** Pass 1 over the file: tests, objects, states, variables. */
export async function readOvalFileTables(src: OvalSource): Promise<OvalTables> {
  try {
    return await readOvalTables(openDecompressed(src.path, await sniffCompression(src.path)));
  } catch (err) {
    throw toFeedError(src, err);
  }
}

/** Pass 2 over the file: definitions in document order. */
export async function* readOvalFileDefinitions(src: OvalSource): AsyncGenerator<OvalDefinition> {
  let last: string | undefined;
  try {
    for await (const def of readOvalDefinitions(openDecompressed(src.path, await sniffCompression(src.path)))) {
      last = def.id;
      yield def;
    }
  } catch (err) {
    throw toFeedError(src, err, last ? `after definition ${last}` : undefined);
  }
}
