import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { dataCopies, mergeSteps, MANIFEST_COPY, type CopyStep } from '../load/plan.js';
import { loadSql, MIGRATIONS_DIR } from '../sql.js';
import type { Manifest } from './manifest.js';

/**
 * Renders `load.sql`: the same load as `clair-bundle load`, as a psql script a DBA can read and
 * run from the bundle directory with `psql -v ON_ERROR_STOP=1 -f load.sql`. It holds statements
 * and \copy lines only; all data comes from the bundle's files.
 */
const require = createRequire(import.meta.url);

interface Migration {
  id: number;
  name: string;
  fileName: string;
  sql: string;
}

/** Our migrations plus postgres-migrations' own table migration, with its bookkeeping hash. */
export function migrations(): Migration[] {
  const libDir = path.join(path.dirname(require.resolve('postgres-migrations/package.json')), 'dist', 'migrations');
  const files = [
    ...readdirSync(libDir).filter((f) => f.endsWith('.sql')).map((f) => path.join(libDir, f)),
    ...readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).map((f) => path.join(MIGRATIONS_DIR, f)),
  ];
  return files
    .map((file) => {
      const fileName = path.basename(file);
      const m = /^(\d+)[-_](.*)\.sql$/.exec(fileName);
      if (!m) throw new Error(`bad migration file name ${fileName}`);
      return { id: Number(m[1]), name: m[2], fileName, sql: readFileSync(file, 'utf8') };
    })
    .sort((a, b) => a.id - b.id);
}

/** sha1(fileName + sql): the hash postgres-migrations records and checks. */
export function migrationHash(m: Migration): string {
  return createHash('sha1').update(m.fileName + m.sql, 'utf8').digest('hex');
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function psqlCopy(step: CopyStep): string {
  const file = step.file.replace(/'/g, "''");
  return `\\copy ${step.table} (${step.columns.join(', ')}) FROM '${file}' WITH ${step.format}`;
}

function gset(sql: string, prefix = ''): string {
  return sql.trimEnd().replace(/;$/, '') + `\n\\gset ${prefix}`;
}

function section(title: string): string {
  return `\n-- ${'='.repeat(76)}\n-- ${title}\n-- ${'='.repeat(76)}\n`;
}

/** Position of a step in the full (newest-schema) order, legacy-only steps placed where they run. */
function order(name: string): number {
  const legacy = mergeSteps({ hasAliases: false, hasNotVulnerable: false });
  const all = mergeSteps({ hasAliases: true, hasNotVulnerable: true });
  const i = all.indexOf(name);
  return i >= 0 ? i : legacy.indexOf(name) - 0.5;
}

export function renderLoadScript(manifest: Manifest): string {
  const out: string[] = [];
  const add = (...parts: string[]) => out.push(...parts);
  add(
    `-- clair-bundle ${manifest.tool.version}: load script for a bundle created ${manifest.created}`,
    `-- (target ${manifest.target}; ${manifest.updaters.length} updaters, ${manifest.mappings.length} mapping documents).`,
    '--',
    '-- Run from inside the bundle directory, connected to Clair\'s matcher database:',
    '--   psql -v ON_ERROR_STOP=1 -f load.sql',
    '-- Optional: -v allow_older=true to load a bundle older than the last one loaded.',
    '-- Check the files first with `clair-bundle verify .` or `sha256sum`: manifest.json lists every file\'s sha256.',
    '-- This script contains no data: every row comes from the files named in its \\copy lines.',
    '',
    '\\set ON_ERROR_STOP on',
    '\\set via psql',
    '\\if :{?allow_older}',
    '\\else',
    '\\set allow_older false',
    '\\endif',
  );
  add(section('1. Refuse anything but a Clair matcher schema of a supported version'), loadSql('check-schema'));
  add(gset(loadSql('detect-schema')), loadSql('check-privileges'));
  add(section('2. clair-bundle\'s own schema (idempotent; bookkeeping compatible with postgres-migrations)'));
  add(loadSql('create-schema'), 'BEGIN;', 'SET LOCAL search_path TO clair_bundle;');
  const ms = migrations();
  for (const m of ms) add(`-- ${m.fileName}`, m.sql.trimEnd());
  add(
    'INSERT INTO migrations (id, name, hash) VALUES',
    ms.map((m) => `  (${m.id}, ${sqlString(m.name)}, ${sqlString(migrationHash(m))})`).join(',\n'),
    'ON CONFLICT DO NOTHING;',
    'COMMIT;',
  );
  add(section('3. One load at a time; stage the manifest; decide'), loadSql('lock-load'), loadSql('stage-manifest'));
  add(psqlCopy(MANIFEST_COPY), loadSql('stage-run'));
  add(gset(loadSql('decide')));
  add('\\if :is_unchanged', '\\set outcome unchanged', "\\set error ''", loadSql('record-outcome'),
    "\\echo 'clair-bundle: this bundle is already loaded; nothing changed.'");
  add('\\elif :is_refused', '\\set outcome refused',
    "\\set error 'a newer bundle was already loaded'", loadSql('record-outcome'),
    "DO $$ BEGIN RAISE EXCEPTION 'refused: a newer bundle was already loaded (run with -v allow_older=true to load it anyway)' USING ERRCODE = 'CB007'; END $$;");
  add('\\else');
  add(section('4. The load: one transaction'), 'BEGIN;', loadSql('lock-updaters'), loadSql('create-staging'), loadSql('plan-updaters'));
  for (const step of dataCopies(manifest)) {
    add(psqlCopy(step));
    if (step.mapping) add(`\\set mapping_name ${sqlString(step.mapping)}`, loadSql('name-mapping'));
  }
  // Steps that depend on the schema's features become \\if blocks on the variables \\gset above.
  const all = mergeSteps({ hasAliases: true, hasNotVulnerable: true });
  const legacy = mergeSteps({ hasAliases: false, hasNotVulnerable: false });
  for (const name of [...new Set([...legacy, ...all])].sort((a, b) => order(a) - order(b))) {
    if (name === 'insert-vulns') add('\\if :has_not_vulnerable', loadSql('insert-vulns'), '\\else', loadSql('insert-vulns-legacy'), '\\endif');
    else if (name === 'insert-vulns-legacy') continue;
    else if (name === 'drop-not-vulnerable') add('\\if :has_not_vulnerable', '\\else', loadSql(name), '\\endif');
    else if (name === 'link-aliases') add('\\if :has_aliases', loadSql(name), '\\endif');
    else add(loadSql(name));
  }
  add(loadSql('record-load'), 'COMMIT;', '\\endif');
  return out.join('\n') + '\n';
}
