import type { Manifest } from '../bundle/manifest.js';
import { MANIFEST_FILE } from '../bundle/manifest.js';
import { ALIAS_COLUMNS, ENRICHMENT_COLUMNS, VULN_COLUMNS } from '../model/row.js';

/**
 * The load, as data shared by the node-postgres loader (src/load/load.ts) and the psql
 * script renderer (src/bundle/load-script.ts), so both run the same statements in the same order.
 */
export const LINES_FORMAT = "(FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')";
export const CSV_FORMAT = '(FORMAT csv, HEADER true)';

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
      if (u.aliases) steps.push({ file: u.aliases.file, table: 'stage_alias', columns: ALIAS_COLUMNS, format: CSV_FORMAT, updater: u.name });
    } else {
      steps.push({ file: u.file, table: 'stage_enrichment', columns: ENRICHMENT_COLUMNS, format: CSV_FORMAT, updater: u.name });
    }
  }
  for (const m of manifest.mappings) {
    steps.push({ file: m.file, table: 'stage_mapping_line', columns: ['line'], format: LINES_FORMAT, mapping: m.name });
  }
  return steps;
}

/** Statement files of the transaction after the COPY steps (plan-updaters runs before them). */
export function mergeSteps(features: { hasAliases: boolean; hasNotVulnerable: boolean }): string[] {
  return [
    'prepare-merge',
    ...(features.hasNotVulnerable ? [] : ['drop-not-vulnerable']),
    'fast-path-begin',
    'resolve-vulns',
    features.hasNotVulnerable ? 'insert-vulns' : 'insert-vulns-legacy',
    'link-vulns',
    ...(features.hasAliases ? ['link-aliases'] : []),
    'fast-path-end',
    'link-enrichments',
    'replace-mappings',
    'finish-load',
    'refresh-latest',
  ];
}
