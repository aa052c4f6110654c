import type { Logger } from '../log.js';
import type { EnrichmentRecord, Vulnerability } from '../model/vulnerability.js';

/**
 * A feed: one upstream source. `fetch` is the only code that touches the network; `parse`
 * reads the mirror only. Adding a feed = one folder under src/feeds/ + one registry line.
 *
 * Mirror layout: every upstream "part" (a base URL) of a feed has its own directory
 * `<mirror>/<part>/`, holding files at their path relative to that base URL. A feed with one
 * upstream host has one part named like the feed (`rhel-vex`); feeds with several hosts name
 * them `<feed>.<part>` (`debian.tracker`, `debian.dists`). The fetch record of a feed is
 * `<mirror>/.fetch/<feed>.json` (see src/feeds/fetch-record.ts).
 */
export interface Feed {
  /** CLI source name = folder name. */
  readonly id: string;
  readonly description: string;
  /** Default upstream base URL per part (keys are part names, as `--url PART=URL` takes them). */
  readonly parts: Readonly<Record<string, string>>;
  /**
   * claircore versions (`build --target`, see src/version.ts TARGETS) whose rules this feed can
   * follow; absent = only the default target. A feed whose rows do not depend on the version
   * lists them all.
   */
  readonly targets?: readonly string[];
  /** Feed options (`--option NAME=VALUE`) with a one-line description each, for --help. */
  readonly options?: Readonly<Record<string, string>>;
  /** Off unless asked for by `--source` (EPSS, KEV). */
  readonly optIn?: boolean;
  fetch(ctx: FetchContext): Promise<void>;
  /** Yields one output per updater (or mapping document); each is drained before the next is asked for. */
  parse(ctx: ParseContext): AsyncIterable<FeedOutput>;
}

export interface FeedContext {
  /** Mirror root directory. */
  readonly mirror: string;
  /** Directory of a part inside the mirror. */
  partDir(part: string): string;
  readonly log: Logger;
  /** Feed-specific options from the CLI (e.g. `osv-ecosystems`). */
  readonly options: Readonly<Record<string, string>>;
}

export interface FetchContext extends FeedContext {
  /** Effective base URL per part (defaults overridden by `--url`). */
  readonly baseUrls: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export type ParseContext = FeedContext;

export interface VulnerabilityOutput {
  readonly type: 'vulnerability';
  readonly updater: string;
  readonly records: AsyncIterable<Vulnerability>;
}

export interface EnrichmentOutput {
  readonly type: 'enrichment';
  readonly updater: string;
  readonly records: AsyncIterable<EnrichmentRecord>;
}

/** An upstream document carried verbatim in the bundle under mappings/. */
export interface MappingOutput {
  readonly type: 'mapping';
  /** `repository-to-cpe.json` or `container-name-repos-map.json` */
  readonly name: string;
  /** Absolute path of the validated file in the mirror. */
  readonly path: string;
  /** Upstream date (Last-Modified or the document's own timestamp), RFC 3339, or ''. */
  readonly upstreamDate: string;
}

export type FeedOutput = VulnerabilityOutput | EnrichmentOutput | MappingOutput;
