import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';

/**
 * Golden rows produced by claircore itself (its updater's Parse over the same OVAL file, see
 * test/fixtures/<feed>/README.md): one TSV line per record, sorted, with the fields our
 * records carry (the description as its md5 to keep the files small).
 */
export const GOLDEN_COLUMNS = [
  'updater', 'name', 'description_md5', 'issued', 'links', 'severity', 'normalized_severity', 'package_name', 'package_module',
  'package_arch', 'arch_operation', 'fixed_in_version', 'dist_id', 'dist_name', 'dist_version', 'dist_version_code_name',
  'dist_version_id', 'dist_pretty_name',
];

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

/** Our record in the golden files' line format. */
export function goldenLine(v: Vulnerability): string {
  const d = v.dist!;
  return [
    v.updater, v.name, createHash('md5').update(v.description).digest('hex'), v.issued, v.links, v.severity, v.normalizedSeverity,
    v.package!.name, v.package!.module, v.package!.arch, v.archOperation, v.fixedInVersion,
    d.did, d.name, d.version, d.versionCodeName, d.versionId, d.prettyName,
  ].map(esc).join('\t');
}

/** The golden file's header and its lines (sorted as written). */
export function readGolden(file: string): { header: string[]; lines: string[] } {
  const [header, ...lines] = gunzipSync(readFileSync(file)).toString('utf8').replace(/\n$/, '').split('\n');
  return { header: header.split('\t'), lines };
}

/** Sorted golden lines of our records, comparable with readGolden(...).lines. */
export function ourLines(records: readonly Vulnerability[]): string[] {
  return records.map(goldenLine).sort(byCodeUnit);
}

/** Python's default string sort (code points; equal to code units for these ASCII-heavy files). */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
