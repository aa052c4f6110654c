import { enrichmentHash, sortedTags, vulnHash } from './hash.js';
import { isUtcInstant, issuedColumn } from './go-time.js';
import { rangeLiteral, versionKind } from './version.js';
import {
  ARCH_OPERATIONS, NORMALIZED_SEVERITIES, PACKAGE_KINDS,
  type Alias, type EnrichmentRecord, type Vulnerability,
} from './vulnerability.js';

/**
 * Column lists of the bundle CSVs. They equal the staging table columns in
 * sql/load/create-staging.sql, so a CSV header is a column list and no mapping layer exists.
 */
export const VULN_COLUMNS = [
  'hash', 'updater', 'name', 'description', 'issued', 'links', 'severity', 'normalized_severity',
  'package_name', 'package_version', 'package_module', 'package_arch', 'package_kind',
  'dist_id', 'dist_name', 'dist_version', 'dist_version_code_name', 'dist_version_id', 'dist_arch',
  'dist_cpe', 'dist_pretty_name', 'repo_name', 'repo_key', 'repo_uri', 'fixed_in_version',
  'arch_operation', 'version_kind', 'vulnerable_range', 'not_vulnerable',
] as const;

export const ALIAS_COLUMNS = ['hash', 'kind', 'namespace', 'name'] as const;
/**
 * One row per vulnerability row, in the same order: its content hash, the md5 of its bytes in the
 * vulnerability CSV followed by its alias rows' bytes in the alias CSV (so the digest changes when
 * anything of the row or its aliases does), and where those bytes are. A refresh reads only the rows
 * whose digest it has not loaded before (sql/load/plan-keyed.sql).
 */
export const KEY_COLUMNS = ['hash', 'digest', 'vuln_at', 'vuln_bytes', 'alias_at', 'alias_bytes'] as const;
export const ENRICHMENT_COLUMNS = ['hash', 'updater', 'tags', 'data'] as const;

/** A CSV cell: a string (always quoted, so '' stays ''), or null (unquoted empty = SQL NULL). */
export type Cell = string | null;
export type VulnRow = Cell[];

export interface AliasRow {
  kind: 'self' | 'alias';
  namespace: string;
  name: string;
}

export class InvalidRecordError extends Error {}

/** Checks the value domains Clair enforces on read (clair-matcher-db.md §5.4). */
export function checkVulnerability(v: Vulnerability): void {
  const bad = (what: string) => {
    throw new InvalidRecordError(`${v.name || '(unnamed)'}: ${what}`);
  };
  if (!NORMALIZED_SEVERITIES.includes(v.normalizedSeverity)) bad(`normalized severity ${JSON.stringify(v.normalizedSeverity)}`);
  if (!ARCH_OPERATIONS.includes(v.archOperation)) bad(`arch operation ${JSON.stringify(v.archOperation)}`);
  if (v.package && !PACKAGE_KINDS.includes(v.package.kind)) bad(`package kind ${JSON.stringify(v.package.kind)}`);
  if (!isUtcInstant(v.issued)) bad(`issued ${JSON.stringify(v.issued)} is not an RFC 3339 UTC time`);
  if (v.dist && v.dist.cpe !== '' && !v.dist.cpe.startsWith('cpe:2.3:')) bad(`dist CPE ${JSON.stringify(v.dist.cpe)} is not CPE 2.3`);
  for (const s of [v.name, v.description, v.links, v.severity, v.fixedInVersion, v.updater]) {
    if (s.includes('\0')) bad('a text field contains a NUL byte');
  }
}

/** True when claircore's writer would store the record (skipVulnerability is false). */
export function isStored(v: Vulnerability): boolean {
  return v.package !== null && v.package.name !== '';
}

/** The `vuln` row of a record, in VULN_COLUMNS order. */
export function vulnRow(v: Vulnerability): VulnRow {
  const p = v.package;
  const d = v.dist;
  const r = v.repo;
  return [
    vulnHash(v), v.updater, v.name, v.description, issuedColumn(v.issued), v.links, v.severity,
    v.normalizedSeverity,
    p?.name ?? '', p?.version ?? '', p?.module ?? '', p?.arch ?? '', p?.kind ?? '',
    d?.did ?? '', d?.name ?? '', d?.version ?? '', d?.versionCodeName ?? '', d?.versionId ?? '',
    d?.arch ?? '', d?.cpe ?? '', d?.prettyName ?? '',
    r?.name ?? '', r?.key ?? '', r?.uri ?? '',
    v.fixedInVersion, v.archOperation, versionKind(v.range), rangeLiteral(v.range),
    v.invert ? 't' : 'f',
  ];
}

function valid(a: Alias | null | undefined): a is Alias {
  return !!a && a.space !== '' && a.name !== '';
}

/** Alias rows of a record: its Self (if valid) and every valid alias. */
export function aliasRows(v: Vulnerability): AliasRow[] {
  const rows: AliasRow[] = [];
  if (valid(v.self)) rows.push({ kind: 'self', namespace: v.self.space, name: v.self.name });
  for (const a of v.aliases ?? []) if (valid(a)) rows.push({ kind: 'alias', namespace: a.space, name: a.name });
  return rows;
}

/** PostgreSQL text[] literal with every element double-quoted. */
export function textArrayLiteral(items: readonly string[]): string {
  return `{${items.map((s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** The `enrichment` row of a record, in ENRICHMENT_COLUMNS order. */
export function enrichmentRow(e: EnrichmentRecord): Cell[] {
  return [enrichmentHash(e), e.updater, textArrayLiteral(sortedTags(e.tags)), e.json];
}
