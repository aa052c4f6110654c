import type { LoadSummary } from '../load/load.js';
import type { Status } from '../load/status.js';

/** Human-readable renderings of results, printed to stdout by the CLI only. */
export function formatSummary(s: LoadSummary): string {
  const lines = [`outcome: ${s.outcome}  bundle ${s.digest.slice(0, 12)} (created ${s.created})  schema ${s.schemaVersion}  ${s.seconds.toFixed(2)}s`];
  if (s.updaters.length) {
    const w = Math.max(8, ...s.updaters.map((u) => u.name.length));
    lines.push(`${'updater'.padEnd(w)}  action     rows  inserted    linked`);
    for (const u of s.updaters) {
      lines.push(`${u.name.padEnd(w)}  ${u.action.padEnd(9)} ${String(u.rows).padStart(5)} ${String(u.inserted).padStart(9)} ${String(u.linked).padStart(9)}${u.left_out ? `  (${u.left_out} left out)` : ''}`);
    }
  }
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export function oneLineSummary(s: LoadSummary): string {
  const loaded = s.updaters.filter((u) => u.action === 'loaded').length;
  return `clair-bundle: ${s.outcome} bundle ${s.digest.slice(0, 12)} (${loaded}/${s.updaters.length} updaters loaded) in ${s.seconds.toFixed(1)}s`;
}

function cell(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (v === null || v === undefined) return '';
  return String(v);
}

export function formatStatus(st: Status): string {
  const lines = [`Clair matcher schema: ${st.schemaVersion ?? 'not found'}`, '', 'Bundle history (newest first):'];
  if (st.history.length === 0) lines.push('  (no loads recorded)');
  for (const h of st.history) {
    lines.push(`  #${cell(h.id)} ${cell(h.outcome).padEnd(9)} ${cell(h.bundle_digest).slice(0, 12)} created ${cell(h.bundle_created)} finished ${cell(h.finished_at)} via ${cell(h.via)} by ${cell(h.db_user)}${h.error ? ` error: ${cell(h.error)}` : ''}`);
  }
  lines.push('', 'Updaters (latest update operation):');
  if (st.updaters.length === 0) lines.push('  (none)');
  for (const u of st.updaters) {
    lines.push(`  ${cell(u.updater).padEnd(36)} ${cell(u.kind).padEnd(13)} uo ${cell(u.uo).padStart(6)} ${cell(u.date)} rows ${cell(u.rows).padStart(8)} by ${cell(u.written_by)}${u.bundle_fingerprint ? ` fp ${cell(u.bundle_fingerprint).slice(0, 12)}` : ''}`);
  }
  return lines.join('\n');
}

/** A small text table. */
export function formatRows(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '  (no rows)';
  const cols = Object.keys(rows[0]);
  const widths = cols.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (vals: string[]) => '  ' + vals.map((v, i) => v.slice(0, widths[i]).padEnd(widths[i])).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}
