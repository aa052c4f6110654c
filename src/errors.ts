/**
 * Typed errors. Every exit status of the CLI is decided here, once (contract §2):
 * 0 ok · 1 bug · 2 usage/config · 3 bundle or mirror invalid · 4 database · 5 load rolled back
 * · 6 lock busy · 7 refused (older bundle).
 */
export interface ErrorPlace {
  /** feed / source id */
  feed?: string;
  /** file path (bundle- or mirror-relative where possible) */
  file?: string;
  /** record, line or entry inside the file */
  record?: string;
}

export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;
  readonly hint?: string;
  readonly place: ErrorPlace;

  constructor(message: string, opts: { hint?: string; cause?: unknown; place?: ErrorPlace } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
    this.place = opts.place ?? {};
  }

  get file(): string | undefined {
    return this.place.file;
  }
}

export class UsageError extends AppError {
  readonly code = 'USAGE';
  readonly exitCode = 2;
}

export class ConfigError extends AppError {
  readonly code = 'CONFIG';
  readonly exitCode = 2;
}

/** The bundle is missing a file, has a checksum mismatch, or an unsupported format. */
export class BundleError extends AppError {
  readonly code = 'BUNDLE_INVALID';
  readonly exitCode = 3;
}

/** The mirror holds a malformed or missing feed file, or a download could not complete. */
export class FeedError extends AppError {
  readonly code = 'FEED_INVALID';
  readonly exitCode = 3;
}

/**
 * The error maker of one feed: `<where>: <text>`, where = feed, file and record (describePlace),
 * the place kept on the error for the CLI.
 */
export function feedErrors(feed: string): (place: ErrorPlace, text: string, cause?: unknown, hint?: string) => FeedError {
  return (place, text, cause, hint) => {
    const p = { feed, ...place };
    return new FeedError(`${describePlace(p)}: ${text}`, { place: p, cause, hint });
  };
}

/** Database unreachable, permission denied, or Clair's schema missing/unsupported. */
export class DatabaseError extends AppError {
  readonly code = 'DATABASE';
  readonly exitCode = 4;
}

/** The load failed and was rolled back; Clair's tables are as before. */
export class LoadFailedError extends AppError {
  readonly code = 'LOAD_FAILED';
  readonly exitCode = 5;
}

export class LockBusyError extends AppError {
  readonly code = 'LOCK_BUSY';
  readonly exitCode = 6;
}

export class RefusedError extends AppError {
  readonly code = 'REFUSED_OLDER';
  readonly exitCode = 7;
}

export function exitCodeOf(err: unknown): number {
  return err instanceof AppError ? err.exitCode : 1;
}

/** Where-prefix for messages: `feed rhel-vex, file x.json, record CVE-1: `. */
export function describePlace(p: ErrorPlace): string {
  const parts: string[] = [];
  if (p.feed) parts.push(`feed ${p.feed}`);
  if (p.file) parts.push(`file ${p.file}`);
  if (p.record) parts.push(`record ${p.record}`);
  return parts.join(', ');
}
