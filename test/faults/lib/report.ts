import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The figures of the fault suite, from what every test file recorded under the shared directory
 * (see tally.ts): faults injected / survived, bad inputs tried / rejected correctly, outputs
 * scanned for secrets / leaks found. Returns a failure message when anything is wrong.
 */
export interface Entry {
  area: string;
  type: 'fault' | 'input';
  name: string;
  ok: boolean;
  detail?: string;
  /** A bad input handled correctly by accepting it safely (e.g. invalid UTF-8 replaced as claircore does). */
  accepted?: boolean;
}

function lines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean));
}

/** Every way a secret could be written: as is, URL-encoded, JSON-escaped. */
export function secretForms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])];
}

export function scanForSecrets(outputs: { name: string; text: string }[], secrets: string[]): { name: string; secret: string }[] {
  const leaks: { name: string; secret: string }[] = [];
  for (const o of outputs) {
    for (const s of secrets) {
      if (secretForms(s).some((form) => o.text.includes(form))) leaks.push({ name: o.name, secret: `${s.slice(0, 3)}…(${s.length} chars)` });
    }
  }
  return leaks;
}

export function report(outDir: string, extra: { name: string; text: string }[], print: (line: string) => void): string | undefined {
  const entries = lines(path.join(outDir, 'tally')).map((l) => JSON.parse(l) as Entry);
  const secrets = [...new Set(lines(path.join(outDir, 'secrets')).map((l) => JSON.parse(l) as string))];
  const outputDir = path.join(outDir, 'outputs');
  const outputs = [
    ...(existsSync(outputDir) ? readdirSync(outputDir).map((f) => ({ name: f, text: readFileSync(path.join(outputDir, f), 'utf8') })) : []),
    ...extra,
  ];
  const leaks = scanForSecrets(outputs, secrets);

  const order = ['crash', 'connection', 'concurrency', 'least privilege', 'bad input: feed', 'bad input: bundles', 'signatures', 'credentials'];
  const rank = (a: string) => {
    const i = order.findIndex((o) => a.startsWith(o));
    return i < 0 ? order.length : i;
  };
  const areas = [...new Set(entries.map((e) => e.area))].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const rows = areas.map((area) => {
    const es = entries.filter((e) => e.area === area);
    const f = es.filter((e) => e.type === 'fault');
    const i = es.filter((e) => e.type === 'input');
    return [area, f.length, f.filter((e) => e.ok).length, i.length, i.filter((e) => e.ok && !e.accepted).length, i.filter((e) => e.ok && e.accepted).length];
  });
  const total = ['total', ...[1, 2, 3, 4, 5].map((k) => rows.reduce((n, r) => n + (r[k] as number), 0))];
  const header = ['area', 'faults injected', 'survived without change', 'bad inputs tried', 'rejected correctly', 'accepted safely*'];
  const table = [header, ...rows, total].map((r) => r.map(String));
  const widths = header.map((_, k) => Math.max(...table.map((r) => r[k].length)));
  const fmt = (r: string[]) => r.map((c, k) => (k === 0 ? c.padEnd(widths[k]) : c.padStart(widths[k]))).join('  ');
  print('');
  print('clair-bundle fault suite — figures');
  print(fmt(table[0]));
  print(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of table.slice(1, -1)) print(fmt(r));
  print(widths.map((w) => '-'.repeat(w)).join('  '));
  print(fmt(table[table.length - 1]));
  print('* accepted safely: invalid UTF-8 inside a JSON/XML string, replaced by U+FFFD as claircore\'s Go decoders do; the bundle holds only valid UTF-8');
  print(`outputs scanned for secrets: ${outputs.length} (${secrets.length} secrets, each also URL- and JSON-encoded)`);
  print(`leaks found: ${leaks.length}`);
  for (const l of leaks) print(`  LEAK: ${l.secret} in ${l.name}`);
  const bad = entries.filter((e) => !e.ok);
  for (const e of bad) print(`  NOT OK: [${e.area}] ${e.name}${e.detail ? `: ${e.detail}` : ''}`);
  print(`details: ${outDir}`);
  print('');
  if (leaks.length || bad.length) return `fault suite: ${leaks.length} leaked secret(s), ${bad.length} fault(s)/input(s) not handled correctly (see the table above)`;
  return undefined;
}
