import type { Manifest } from '../bundle/manifest.js';
import { MANIFEST_FILE } from '../bundle/manifest.js';
import { ALIAS_COLUMNS, ENRICHMENT_COLUMNS, KEY_COLUMNS, VULN_COLUMNS } from '../model/row.js';

/**
 * The load, as data shared by the node-postgres loader (src/load/load.ts) and the psql
 * script renderer (src/bundle/load-script.ts), so both run the same statements in the same order.
 */
export const LINES_FORMAT = "(FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')";
export const CSV_FORMAT = '(FORMAT csv, HEADER true)';
/**
 * A CSV copied into a table emptied or made in the same transaction, whose rows COPY freezes: a
 * vulnerability CSV straight into an empty vuln (sql/load/direct-begin.sql), the second session's
 * alias files (side-aliases-begin.sql).
 */
export const DIRECT_FORMAT = '(FORMAT csv, HEADER true, FREEZE true)';

/**
 * The node loader's COPY of a bundle CSV (CSV_FORMAT, DIRECT_FORMAT): the same file in COPY's text
 * format, converted while it flows (src/load/csv-to-copy-text.ts), in node, which has a core to
 * spare while the backend parses. PostgreSQL parses a vulnerability CSV's text in about 60 % of the
 * time the CSV takes. The psql script copies the CSV as it is.
 */
export function asCopyText(step: CopyStep): CopyStep | undefined {
  const format = step.format === CSV_FORMAT ? '(FORMAT text)' : step.format === DIRECT_FORMAT ? '(FORMAT text, FREEZE true)' : undefined;
  return format ? { ...step, format } : undefined;
}

/** The node loader's COPY of a vulnerability file straight into vuln (src/load/csv-to-copy-binary.ts). */
export const BINARY_FORMAT = '(FORMAT binary, FREEZE true)';

export interface CopyStep {
  /** Bundle-relative file. */
  file: string;
  table: string;
  columns: readonly string[];
  format: string;
  /** The updater the file belongs to (vulnerability/alias/enrichment files). */
  updater?: string;
  /** For mapping documents: the name to tag the copied lines with. */
  mapping?: string;
}

/** Where alias rows are staged (sql/load/create-staging.sql: not a temporary table). */
export const ALIAS_STAGE = 'clair_bundle.stage_alias';

export const MANIFEST_COPY: CopyStep = { file: MANIFEST_FILE, table: 'stage_manifest', columns: ['doc'], format: LINES_FORMAT };

export function copyStatement(step: CopyStep): string {
  return `COPY ${step.table} (${step.columns.join(', ')}) FROM STDIN WITH ${step.format}`;
}

/** Every data file of the bundle as a COPY into its staging table. */
export function dataCopies(manifest: Manifest): CopyStep[] {
  const steps: CopyStep[] = [];
  for (const u of manifest.updaters) {
    if (u.kind === 'vulnerability') {
      steps.push({ file: u.file, table: 'stage_vuln', columns: VULN_COLUMNS, format: CSV_FORMAT, updater: u.name });
      if (u.aliases) steps.push({ file: u.aliases.file, table: ALIAS_STAGE, columns: ALIAS_COLUMNS, format: CSV_FORMAT, updater: u.name });
    } else {
      steps.push({ file: u.file, table: 'stage_enrichment', columns: ENRICHMENT_COLUMNS, format: CSV_FORMAT, updater: u.name });
    }
  }
  for (const m of manifest.mappings) {
    steps.push({ file: m.file, table: 'stage_mapping_line', columns: ['line'], format: LINES_FORMAT, mapping: m.name });
  }
  return steps;
}

/**
 * The row keys files (bundle keys/*.csv) as COPYs into stage_row_key (node loader only): of the
 * updaters whose keys were computed from the very CSVs the manifest lists, one per row it counts (a
 * CSV replaced or a count changed after the build, even with the manifest updated, leaves its keys
 * unused: every row is staged, and checked). The loader numbers the lines while it copies them
 * (ord: LineNumbers, src/load/csv-to-copy-text.ts).
 */
export function keyCopies(manifest: Manifest): CopyStep[] {
  return manifest.updaters.flatMap((u) => (u.keys && u.keys.vuln_sha256 === u.sha256 && u.keys.aliases_sha256 === u.aliases?.sha256 && u.keys.rows === u.rows
    ? [{ file: u.keys.file, table: 'stage_row_key', columns: [...KEY_COLUMNS, 'ord'], format: CSV_FORMAT, updater: u.name }] : []));
}

/**
 * The COPY of a vulnerability file straight into vuln, instead of into stage_vuln. A schema without
 * vuln.not_vulnerable (< 18) gets the file without that column and without the records it leaves
 * out (src/load/csv-to-copy-binary.ts: leaveOut), and with each record's id last; `numbered`: the
 * file with each record's id last (LineNumbers, src/load/csv-to-copy-text.ts).
 */
export function directCopy(step: CopyStep, hasNotVulnerable: boolean, numbered = false): CopyStep {
  const columns = hasNotVulnerable ? (numbered ? [...step.columns, 'id'] : step.columns) : [...step.columns.filter((c) => c !== 'not_vulnerable'), 'id'];
  return { ...step, table: 'vuln', format: DIRECT_FORMAT, columns };
}

/**
 * The alias file of the updater copied straight into vuln, numbered by its keys file while it is
 * copied (src/load/alias-ordinals.ts): each record with its vulnerability record's number (ord),
 * so link-aliases.sql finds the row's id without joining millions of hashes. Node loader only.
 * `names`: each record also with its name's number (name_ord, src/load/name-ordinals.ts).
 */
export function numberedAliasCopy(step: CopyStep, names = false): CopyStep {
  return { ...step, columns: [...step.columns, 'ord', ...(names ? ['name_ord'] : [])] };
}

/**
 * The names the second session numbered while it copied an alias file (src/load/name-ordinals.ts),
 * in COPY's text format, into the table side-aliases-begin.sql made for them.
 */
export function aliasNamesCopy(step: CopyStep): CopyStep {
  return { file: step.file, table: 'clair_bundle.stage_alias_name_next', columns: ['namespace', 'name', 'name_ord'], format: '(FORMAT text)', updater: step.updater };
}

/**
 * The keys file of the updater copied straight into vuln as clair_bundle.row_key's rows (updater,
 * digest, vuln id), which node writes in COPY's binary format (src/load/keys-to-row-keys.ts;
 * sql/load/direct-keys-begin.sql). Node loader only.
 */
export function rowKeyCopy(step: CopyStep): CopyStep {
  return { file: step.file, table: 'clair_bundle.row_key', columns: ['updater', 'digest', 'vuln'], format: '(FORMAT binary)', updater: step.updater };
}

/** stage_row_key's columns as KeysToRowKeys writes them ('stage'): the keys file's, then the record number. */
export const STAGE_KEY_COLUMNS = ['updater', ...KEY_COLUMNS, 'ord'] as const;

/** A keys file into stage_row_key in COPY's binary format (src/load/keys-to-row-keys.ts, 'stage'). Node loader only. */
export function stageKeyCopy(step: CopyStep): CopyStep {
  return { file: step.file, table: 'stage_row_key', columns: [...STAGE_KEY_COLUMNS], format: '(FORMAT binary)', updater: step.updater };
}

/**
 * The link tables' COPYs of the numbered alias rows' links, which node collected while the second
 * session copied those rows (src/load/alias-links.ts; sql/load/pipe-aliases-begin.sql), in COPY's
 * binary format. Node loader only.
 */
export const ALIAS_LINKS_COPY = 'COPY vulnerability_alias (vulnerability, alias) FROM STDIN (FORMAT binary)';
export const SELF_LINKS_COPY = 'COPY vulnerability_self (vulnerability, self) FROM STDIN (FORMAT binary)';

/** The records left out of a direct COPY on a schema < 18 (hash, record number), into stage_left_out. */
export function leftOutCopy(step: CopyStep): CopyStep {
  return { file: step.file, table: 'stage_left_out', columns: ['hash', 'ord'], format: '(FORMAT csv)', updater: step.updater };
}

/**
 * Statement files of the transaction after the COPY steps (plan-updaters runs before them).
 * `early`: fast-path-begin and direct-begin ran before the COPY steps (the node loader, a bundle
 * whose CSVs hold stored values); `direct`: and a file went straight into vuln. (The node
 * loader runs lock-references and plan-keyed before the COPY steps on any schema.)
 */
export function mergeSteps(features: { hasAliases: boolean; hasNotVulnerable: boolean; early?: boolean; direct?: boolean }): string[] {
  return [
    ...(features.early ? [] : ['lock-references']),
    ...(features.direct ? ['direct-end'] : []),
    'prepare-merge',
    ...(features.hasNotVulnerable ? [] : ['drop-not-vulnerable']),
    ...(features.early ? [] : ['fast-path-begin']),
    features.direct ? 'resolve-keys-direct' : 'resolve-keys',
    'resolve-vulns',
    features.hasNotVulnerable ? 'insert-vulns' : 'insert-vulns-legacy',
    'link-vulns',
    'fast-path-vuln',
    'record-keys',
    ...(features.hasAliases ? ['link-aliases'] : []),
    'fast-path-end',
    'link-enrichments',
    'replace-mappings',
    'finish-load',
    'refresh-latest',
  ];
}
