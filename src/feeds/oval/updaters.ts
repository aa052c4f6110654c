import path from 'node:path';
import { FeedError, describePlace } from '../../errors.js';
import type { FetchRecord } from '../fetch-record.js';
import type { ParseContext, VulnerabilityOutput } from '../types.js';
import type { ProtoVulnerability } from './convert.js';
import type { OvalDefinition } from './document.js';
import { ovalFileStatus } from './fetch.js';
import { rpmFileRecords, type OvalFileStats, type OvalSource } from './index.js';
import type { XmlCompression } from './xml.js';

/**
 * One claircore updater backed by one rpm OVAL file in the mirror (SUSE, Oracle, Photon):
 * its name, where its file is, and how a definition becomes prototype records.
 */
export interface RpmOvalUpdater {
  readonly updater: string;
  readonly part: string;
  /** Path of the file relative to the part directory. */
  readonly relPath: string;
  /** The updater's configured compression (undefined: by magic bytes, claircore's `auto`). */
  readonly compression?: XmlCompression;
  /** claircore protoVulns: [] skips the definition. */
  protos(def: OvalDefinition): readonly ProtoVulnerability[];
}

/**
 * One output per updater, in the given order. A file that upstream did not have at fetch time
 * (404) gives no output, as claircore's failing updater writes nothing; a file the fetch
 * record does not mention at all is an error (the mirror was fetched with other options).
 */
export async function* rpmOvalOutputs(
  ctx: ParseContext, feed: string, rec: FetchRecord | null, updaters: readonly RpmOvalUpdater[], fetchHint: string,
): AsyncGenerator<VulnerabilityOutput> {
  for (const u of updaters) {
    const display = `${u.part}/${u.relPath}`;
    const status = ovalFileStatus(rec, u.part, u.relPath);
    if (status === 'absent') {
      ctx.log.info('OVAL file was not published upstream at fetch time; no update operation', { feed, updater: u.updater, file: display });
      continue;
    }
    if (status === 'missing') {
      const place = { feed, file: display, record: u.updater };
      throw new FeedError(`${describePlace(place)}: not in the mirror's fetch record`, { place, hint: fetchHint });
    }
    const src: OvalSource = { path: path.join(ctx.partDir(u.part), ...u.relPath.split('/')), display, feed, compression: u.compression };
    yield { type: 'vulnerability', updater: u.updater, records: logged(ctx, src, u) };
  }
}

async function* logged(ctx: ParseContext, src: OvalSource, u: RpmOvalUpdater) {
  const stats: OvalFileStats = { definitions: 0, records: 0 };
  yield* rpmFileRecords(src, (def) => u.protos(def), stats);
  ctx.log.info('parsed OVAL', { feed: src.feed, file: src.display, updater: u.updater, ...stats });
}
