import type { Readable } from 'node:stream';
import { FeedError, describePlace, type ErrorPlace } from '../../errors.js';
import type { Vulnerability } from '../../model/vulnerability.js';
import { rpmDefinitionRecords, type ProtoVulnerability } from './convert.js';
import { OvalDecodeError, readOvalDefinitions, readOvalTables, type OvalDefinition, type OvalTables } from './document.js';
import { DecompressionError, XmlSyntaxError, openDecompressed, sniffCompression, type XmlCompression } from './xml.js';

/**
 * The one streaming OVAL reader every OVAL feed uses (spec clair-updaters.md §3): a mirror
 * file (plain, bzip2 or gzip by magic bytes) is read twice, first for its lookup tables, then
 * for its definitions one at a time. Any decode problem is a FeedError naming the feed, the
 * file and the definition or line:column.
 */
export * from './convert.js';
export * from './date.js';
export * from './document.js';
export * from './fetch.js';
export { DecompressionError, XmlSyntaxError, type XmlCompression } from './xml.js';

export interface OvalSource {
  /** Absolute path in the mirror. */
  path: string;
  /** Name used in errors (mirror-relative). */
  display: string;
  feed: string;
  /**
   * The compression the updater is configured with (claircore ovalutil.Fetcher: SUSE gzip,
   * Oracle bzip2); a file that is not of that kind is refused. Absent: chosen by magic bytes.
   */
  compression?: XmlCompression;
}

function toFeedError(src: OvalSource, err: unknown, record?: string): FeedError {
  if (err instanceof FeedError) return err;
  const place: ErrorPlace = { feed: src.feed, file: src.display };
  let text: string;
  if (err instanceof XmlSyntaxError) {
    place.record = record ? `${record} (line ${err.line}, column ${err.column})` : `line ${err.line}, column ${err.column}`;
    text = `malformed XML: ${err.message}`;
  } else if (err instanceof DecompressionError) {
    place.record = record;
    text = err.message;
  } else if (err instanceof OvalDecodeError) {
    place.record = err.record ?? record;
    text = `unable to decode OVAL document: ${err.message}`;
  } else {
    text = `unreadable OVAL document: ${(err as Error).message}`;
  }
  return new FeedError(`${describePlace(place)}: ${text}`, { place, cause: err });
}

async function open(src: OvalSource): Promise<Readable> {
  return openDecompressed(src.path, src.compression ?? (await sniffCompression(src.path)));
}

/**
 * Pass 1 over the file: tests, objects, states, variables. The decompressed stream is read to
 * its end even though the XML decoder stops at the root element, because claircore's fetcher
 * decompresses the whole body before parsing: a compressed stream cut short is an error there.
 */
export async function readOvalFileTables(src: OvalSource): Promise<OvalTables> {
  let stream: Readable | undefined;
  try {
    stream = await open(src);
    const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    // The XML reader stops at the root's end tag; keep the stream open to drain it afterwards.
    const view: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: () => it.next(), return: async () => ({ done: true, value: undefined }) }) };
    const tables = await readOvalTables(view);
    while (!(await it.next()).done);
    return tables;
  } catch (err) {
    throw toFeedError(src, err);
  } finally {
    stream?.destroy();
  }
}

/** Pass 2 over the file: definitions in document order. */
export async function* readOvalFileDefinitions(src: OvalSource): AsyncGenerator<OvalDefinition> {
  let last: string | undefined;
  try {
    for await (const def of readOvalDefinitions(await open(src))) {
      last = def.id;
      yield def;
    }
  } catch (err) {
    throw toFeedError(src, err, last ? `after definition ${last}` : undefined);
  }
}

/** Counts of one file's conversion, for the per-file log line. */
export interface OvalFileStats {
  definitions: number;
  records: number;
}

/**
 * claircore ovalutil.RPMDefsToVulns over one mirror file (spec §3.3), streamed: the lookup
 * tables first, then every definition with the feed's prototype records (an empty list skips
 * the definition, as a protoVulns error does in claircore).
 */
export async function* rpmFileRecords(
  src: OvalSource, protos: (def: OvalDefinition) => readonly ProtoVulnerability[], stats: OvalFileStats = { definitions: 0, records: 0 },
): AsyncGenerator<Vulnerability> {
  const tables = await readOvalFileTables(src);
  for await (const def of readOvalFileDefinitions(src)) {
    stats.definitions++;
    const p = protos(def);
    if (p.length === 0) continue;
    for (const v of rpmDefinitionRecords(def, tables, p)) {
      stats.records++;
      yield v;
    }
  }
}
