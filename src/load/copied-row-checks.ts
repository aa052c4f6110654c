import { shownValue } from './binary-values.js';

/**
 * What a row copied straight into vuln is held to, as a staged row is by stage_vuln's constraints
 * (sql/load/create-staging.sql), checked by node while it converts the file into COPY's binary
 * format (CsvToCopyBinary) instead of by a scan of the copied rows afterwards (direct-end.sql, which
 * still does when a file goes another way). For each record, its fields as they are copied (the
 * bytes after CSV's quoting; NULL for an empty unquoted field): its updater is the file's, no text
 * column but version_kind and vulnerable_range is NULL, normalized_severity, package_kind and
 * arch_operation hold one of their values, package_name is not empty. The first problem of a record
 * in that order is its problem (as direct-end.sql reports it). Also the bytes of the columns of
 * Clair's vuln_lookup_idx: a record with more than LONG_LOOKUP_BYTES is noted by its id, for
 * prepare-merge.sql to try against that index.
 */

/** More bytes than this in vuln_lookup_idx's columns: tried against the index (prepare-merge.sql). */
export const LONG_LOOKUP_BYTES = 2000;
/** The most records noted as long; past that, none are (direct-end.sql measures every row). */
const MAX_LONG = 100_000;

const SEVERITIES = ['Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'];
const PACKAGE_KINDS = ['', 'source', 'binary', 'layer', 'ancestry'];
const ARCH_OPERATIONS = ['invalid', 'equals', 'not equals', 'pattern match'];
const LOOKUP_COLUMNS = new Set(['package_name', 'dist_id', 'dist_name', 'dist_pretty_name', 'dist_version', 'dist_version_id',
  'package_module', 'dist_version_code_name', 'repo_name', 'dist_arch', 'dist_cpe', 'repo_key', 'repo_uri']);
/**
 * Columns not held to a value here: hash (vuln refuses a NULL one in the COPY), version_kind and
 * vulnerable_range (vuln may hold NULL), not_vulnerable (its own writer checks it).
 */
const NULLABLE = new Set(['hash', 'version_kind', 'vulnerable_range', 'not_vulnerable']);

/** Each column's checks, as bits. */
const KIND = { required: 1, lookup: 2, updater: 4, oneOf: 8, notEmpty: 16 } as const;
/** A record's problems by rank (lower first), as direct-end.sql's CASE orders them; `none` is none. */
const RANK = { updater: 0, null: 1, severity: 2, packageName: 3, packageKind: 4, archOperation: 5, none: 6 } as const;

export class CopiedRowChecks {
  /** Ids of the records copied with more than LONG_LOOKUP_BYTES (none once more than MAX_LONG). */
  long: number[] | undefined = [];
  private readonly kinds: Uint8Array;
  private readonly allowed: (Buffer[] | undefined)[];
  private readonly ranks: Int8Array;
  private readonly updater: Buffer;
  private rank: number = RANK.none;
  private problem = '';
  private lookup = 0;

  constructor(private readonly columns: readonly string[], private readonly updaterName: string) {
    this.updater = Buffer.from(updaterName);
    this.kinds = new Uint8Array(columns.length);
    this.allowed = columns.map(() => undefined);
    this.ranks = new Int8Array(columns.length).fill(RANK.none);
    const held = (i: number, values: string[], rank: number) => {
      this.kinds[i] |= KIND.oneOf;
      this.allowed[i] = values.map((v) => Buffer.from(v));
      this.ranks[i] = rank;
    };
    columns.forEach((c, i) => {
      if (!NULLABLE.has(c)) this.kinds[i] |= KIND.required;
      if (LOOKUP_COLUMNS.has(c)) this.kinds[i] |= KIND.lookup;
      if (c === 'updater') this.kinds[i] |= KIND.updater;
      if (c === 'normalized_severity') held(i, SEVERITIES, RANK.severity);
      if (c === 'package_kind') held(i, PACKAGE_KINDS, RANK.packageKind);
      if (c === 'arch_operation') held(i, ARCH_OPERATIONS, RANK.archOperation);
      if (c === 'package_name') this.kinds[i] |= KIND.notEmpty;
    });
  }

  /** Field `column` of the open record: buf[from, to), or NULL (`isNull`). */
  field(column: number, buf: Buffer, from: number, to: number, isNull: boolean): void {
    const kind = this.kinds[column];
    if (kind === 0) return;
    if (isNull) {
      if (kind & KIND.updater) this.note(RANK.updater, () => `updater NULL in the file of updater ${this.updaterName}`);
      else if (kind & KIND.required) this.note(RANK.null, () => `${this.columns[column]}: an empty unquoted field (NULL) where a value is required`);
      return;
    }
    if (kind & KIND.lookup) this.lookup += to - from;
    if (kind & KIND.updater && !same(buf, from, to, this.updater)) {
      this.note(RANK.updater, () => `updater ${shownValue(buf, from, to)} in the file of updater ${this.updaterName}`);
    } else if (kind & KIND.oneOf && !oneOf(buf, from, to, this.allowed[column]!)) {
      this.note(this.ranks[column], () => `${this.columns[column]} ${shownValue(buf, from, to)} is not one of ${this.allowedText(column)}`);
    } else if (kind & KIND.notEmpty && to === from) this.note(RANK.packageName, () => `${this.columns[column]} is empty`);
  }

  /**
   * The open record ends: its problem (none: undefined), if it is `copied` (a record a schema < 18
   * leaves out is not); a copied one's id is noted when it is long.
   */
  end(copied: boolean, id: number): string | undefined {
    const problem = this.rank < RANK.none ? this.problem : undefined;
    if (copied && !problem && this.lookup > LONG_LOOKUP_BYTES && this.long) {
      if (this.long.length < MAX_LONG) this.long.push(id);
      else this.long = undefined;
    }
    this.rank = RANK.none;
    this.problem = '';
    this.lookup = 0;
    return copied ? problem : undefined;
  }

  private note(rank: number, problem: () => string): void {
    if (rank < this.rank) {
      this.rank = rank;
      this.problem = problem();
    }
  }

  /** As direct-end.sql words them: "a, b, c", or "a, b or empty". */
  private allowedText(column: number): string {
    const values = this.allowed[column]!.map((v) => v.toString());
    const named = values.filter((v) => v !== '').join(', ');
    return values.includes('') ? `${named} or empty` : named;
  }
}

/** buf[from, to) holds exactly `value`'s bytes. */
function same(buf: Buffer, from: number, to: number, value: Buffer): boolean {
  if (to - from !== value.length) return false;
  for (let k = 0; k < value.length; k++) if (buf[from + k] !== value[k]) return false;
  return true;
}

/** buf[from, to) holds one of `values` (a loop: this runs for three fields of every row). */
function oneOf(buf: Buffer, from: number, to: number, values: readonly Buffer[]): boolean {
  for (let k = 0; k < values.length; k++) if (same(buf, from, to, values[k])) return true;
  return false;
}
