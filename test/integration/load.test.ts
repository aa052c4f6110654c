import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../src/log.js';
import { loadBundle, type LoadOptions } from '../../src/load/load.js';
import { BundleError, RefusedError } from '../../src/errors.js';
import { createClairDb, dumpClairTables, logicalDump, query } from '../helpers/db.js';
import {
  EXAMPLE_A, EXAMPLE_A_MD5, EXAMPLE_B, EXAMPLE_B_MD5, EXAMPLE_ENRICHMENT, EXAMPLE_ENRICHMENT_MD5,
  makeBundle, notVulnerable, variations, type UpdaterInput,
} from '../helpers/records.js';
import { rewriteConsistently } from '../helpers/tamper.js';
import type { Vulnerability } from '../../src/model/vulnerability.js';

function opts(bundle: string, url: string, extra: Partial<LoadOptions> = {}): LoadOptions {
  return { bundle, connection: { connectionString: url }, target: 'test', log: silentLogger, ...extra };
}

const BASE: UpdaterInput[] = [
  { name: 'debian/updater', records: [EXAMPLE_A, ...variations(EXAMPLE_A, 20), notVulnerable(EXAMPLE_A)] },
  { name: 'osv/npm', records: [EXAMPLE_B, ...variations(EXAMPLE_B, 5)] },
  { name: 'clair.cvss', kind: 'enrichment', records: [EXAMPLE_ENRICHMENT] },
];

/** The matcher's read path (clair-matcher-db.md §5.1): only rows of the latest UO match. */
async function matcherQuery(url: string, pkg: string, kind: string, extra = ''): Promise<{ name: string; fixed_in_version: string; hash: string }[]> {
  return query(url, `
    SELECT vuln.name, vuln.fixed_in_version, encode(vuln.hash, 'hex') AS hash
    FROM vuln JOIN uo_vuln ON vuln.id = uo_vuln.vuln
    JOIN latest_update_operations ON latest_update_operations.id = uo_vuln.uo
    WHERE latest_update_operations.kind = 'vulnerability' AND vuln.package_name = $1 AND vuln.package_kind = $2 ${extra}
    ORDER BY vuln.name`, [pkg, kind]);
}

describe.each([16, 20] as const)('load into an empty schema-%i database', (schema) => {
  it('lands every row with claircore\'s hash and the matcher finds them', async () => {
    const url = await createClairDb(schema);
    const { dir, manifest } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const summary = await loadBundle(opts(dir, url));
    expect(summary.outcome).toBe('loaded');
    const debian = await matcherQuery(url, 'libfoo', 'source', "AND dist_id = 'debian' AND dist_version_id = '12'");
    expect(debian.find((r) => r.name === 'CVE-2023-12345')?.hash).toBe(EXAMPLE_A_MD5);
    const npm = await matcherQuery(url, 'foo', 'binary', "AND repo_name = 'npm' AND version_kind = 'semver' AND vulnerable_range @> '{0,1,4,1,0,0,0,0,0,0}'::int[]");
    expect(npm.map((r) => r.hash)).toContain(EXAMPLE_B_MD5);
    expect(npm).toHaveLength(6);
    const [e] = await query(url, `SELECT encode(e.hash,'hex') AS hash, e.tags, e.data->>'baseScore' AS score FROM enrichment e
      JOIN uo_enrich u ON u.enrich = e.id JOIN latest_update_operations l ON l.id = u.uo
      WHERE l.updater = 'clair.cvss' AND l.kind = 'enrichment' AND e.tags && '{CVE-2024-0001}'`);
    expect(e).toEqual({ hash: EXAMPLE_ENRICHMENT_MD5, tags: ['CVE-2024-0001'], score: '9.8' });
    // No NULL in any text column Clair reads.
    const [nulls] = await query(url, `SELECT count(*)::int AS n FROM vuln WHERE num_nulls(name, description, issued, links, severity,
      normalized_severity, package_name, package_version, package_module, package_arch, package_kind, dist_id, dist_name,
      dist_version, dist_version_code_name, dist_version_id, dist_arch, dist_cpe, dist_pretty_name, arch_operation,
      repo_name, repo_key, repo_uri, fixed_in_version, updater) > 0`);
    expect(nulls.n).toBe(0);
    const uos = await query(url, 'SELECT updater, kind, fingerprint FROM update_operation ORDER BY updater');
    expect(uos).toEqual([
      { updater: 'clair.cvss', kind: 'enrichment', fingerprint: '' },
      { updater: 'debian/updater', kind: 'vulnerability', fingerprint: '' },
      { updater: 'osv/npm', kind: 'vulnerability', fingerprint: '' },
    ]);
    const deb = summary.updaters.find((u) => u.name === 'debian/updater')!;
    if (schema === 16) {
      expect(deb.left_out).toBe(1);
      expect(deb.linked).toBe(21);
      expect(summary.notes.join(' ')).toMatch(/1 "not vulnerable" records left out.*schema 16/);
      expect(summary.notes.join(' ')).toMatch(/alias rows left out/);
    } else {
      expect(deb.linked).toBe(22);
      const [nv] = await query(url, "SELECT count(*)::int AS n FROM vuln WHERE not_vulnerable AND name = 'CVE-2023-12345-nv'");
      expect(nv.n).toBe(1);
      const aliases = await query(url, `SELECT ns.namespace, a.name, 'alias' AS k FROM vulnerability_alias va JOIN alias a ON a.id = va.alias
        JOIN alias_namespace ns ON ns.id = a.namespace JOIN vuln v ON v.id = va.vulnerability WHERE encode(v.hash,'hex') = $1
        UNION ALL SELECT ns.namespace, a.name, 'self' FROM vulnerability_self vs JOIN alias a ON a.id = vs.self
        JOIN alias_namespace ns ON ns.id = a.namespace JOIN vuln v ON v.id = vs.vulnerability WHERE encode(v.hash,'hex') = $1 ORDER BY 3`, [EXAMPLE_B_MD5]);
      expect(aliases).toEqual([{ namespace: 'CVE', name: '2024-0001', k: 'alias' }, { namespace: 'GHSA', name: 'abcd-efgh-ijkl', k: 'self' }]);
    }
    expect(manifest.updaters.map((u) => u.name)).toEqual(['clair.cvss', 'debian/updater', 'osv/npm']);
  });
});

describe('reloads and updates', () => {
  it('reloading the same bundle is unchanged and fast, with a history row', async () => {
    const url = await createClairDb(20);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    await loadBundle(opts(dir, url));
    const before = await dumpClairTables(url);
    const again = await loadBundle(opts(dir, url));
    expect(again.outcome).toBe('unchanged');
    console.log(`unchanged reload took ${again.seconds.toFixed(3)} s`);
    expect(await dumpClairTables(url)).toBe(before);
    const history = await query(url, 'SELECT outcome FROM clair_bundle.load_history ORDER BY id');
    expect(history.map((h) => h.outcome)).toEqual(['loaded', 'unchanged']);
  });

  it('a second bundle with one changed updater gives only that updater a new update operation', async () => {
    const url = await createClairDb(20);
    const first = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    await loadBundle(opts(first.dir, url));
    const uosBefore = await query(url, 'SELECT id, updater FROM update_operation ORDER BY id');
    // debian: one record removed, one added.
    const deb = BASE[0].records.filter((r) => (r as typeof EXAMPLE_A).name !== 'CVE-2023-12345-3');
    const added = { ...EXAMPLE_A, name: 'CVE-2099-0001' };
    const second = await makeBundle([{ ...BASE[0], records: [...deb, added] }, BASE[1], BASE[2]], '2026-01-02T00:00:00Z');
    const summary = await loadBundle(opts(second.dir, url));
    expect(summary.outcome).toBe('loaded');
    expect(summary.updaters.map((u) => [u.name, u.action])).toEqual([
      ['clair.cvss', 'unchanged'], ['debian/updater', 'loaded'], ['osv/npm', 'unchanged'],
    ]);
    const uosAfter = await query(url, 'SELECT id, updater FROM update_operation ORDER BY id');
    expect(uosAfter.slice(0, 3)).toEqual(uosBefore);
    expect(uosAfter.slice(3).map((u) => u.updater)).toEqual(['debian/updater']);
    // The notifier's diff between the two latest vulnerability UOs of the updater.
    const [cur, prev] = (await query(url, "SELECT id FROM update_operation WHERE updater = 'debian/updater' AND kind = 'vulnerability' ORDER BY id DESC")).map((r) => r.id);
    const diff = async (a: string, b: string) => (await query(url, `
      SELECT v.name FROM vuln v WHERE v.id IN (SELECT vuln FROM uo_vuln WHERE uo = $1 EXCEPT ALL SELECT vuln FROM uo_vuln WHERE uo = $2)
      AND v.updater = 'debian/updater' ORDER BY 1`, [a, b])).map((r) => r.name);
    expect(await diff(cur, prev)).toEqual(['CVE-2099-0001']);
    expect(await diff(prev, cur)).toEqual(['CVE-2023-12345-3']);
    const latest = await matcherQuery(url, 'libfoo', 'source');
    expect(latest.map((r) => r.name)).toContain('CVE-2099-0001');
    expect(latest.map((r) => r.name)).not.toContain('CVE-2023-12345-3');
  });

  it('refuses an older bundle after a newer one and changes nothing', async () => {
    const url = await createClairDb(20);
    const newer = await makeBundle(BASE, '2026-02-01T00:00:00Z');
    const older = await makeBundle([{ ...BASE[0], records: [EXAMPLE_A] }], '2026-01-01T00:00:00Z');
    await loadBundle(opts(newer.dir, url));
    const before = await dumpClairTables(url);
    await expect(loadBundle(opts(older.dir, url))).rejects.toBeInstanceOf(RefusedError);
    expect(await dumpClairTables(url)).toBe(before);
    const [last] = await query(url, 'SELECT outcome FROM clair_bundle.load_history ORDER BY id DESC LIMIT 1');
    expect(last.outcome).toBe('refused');
    const forced = await loadBundle(opts(older.dir, url, { allowOlder: true }));
    expect(forced.outcome).toBe('loaded');
  });

  it('--dry-run reports what would change and writes nothing', async () => {
    const url = await createClairDb(20);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const before = await dumpClairTables(url);
    const plan = await loadBundle(opts(dir, url, { dryRun: true }));
    expect(plan.outcome).toBe('dry-run');
    expect(plan.updaters.find((u) => u.name === 'osv/npm')).toMatchObject({ action: 'loaded', inserted: 6, linked: 6 });
    expect(await dumpClairTables(url)).toBe(before);
  });
});

describe('bad bundles are refused before any connection', () => {
  const unreachable = 'postgres://nobody:pw@127.0.0.1:1/none';
  it.each([
    ['a CSV of another size', async (dir: string) => {
      const f = path.join(dir, 'vulnerabilities', 'debian%2Fupdater.csv');
      const text = await readFile(f, 'utf8');
      await writeFile(f, text.replace('libfoo', 'libfooo'));
    }, /debian%2Fupdater\.csv does not match its checksum/],
    ['a missing file', async (dir: string) => rm(path.join(dir, 'aliases', 'osv%2Fnpm.csv')), /aliases\/osv%2Fnpm\.csv is missing/],
    ['a wrong format version', async (dir: string) => {
      const m = path.join(dir, 'manifest.json');
      await writeFile(m, (await readFile(m, 'utf8')).replace('clair-bundle/v1', 'clair-bundle/v9'));
    }, /unsupported bundle format "clair-bundle\/v9"/],
    ['no manifest', async (dir: string) => rm(path.join(dir, 'manifest.json')), /manifest\.json not found/],
  ])('%s', async (_name, damage, message) => {
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    await damage(dir);
    const err = await loadBundle(opts(dir, unreachable)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(message);
    expect((err as BundleError).exitCode).toBe(3);
  });
});

describe('a data file whose content differs from the manifest', () => {
  it('schema 16 has no alias tables: an alias file is not copied, but one checked only while copied is still read and refused if damaged', async () => {
    const url = await createClairDb(16);
    const before = await dumpClairTables(url);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const f = path.join(dir, 'aliases', 'osv%2Fnpm.csv');
    await writeFile(f, (await readFile(f, 'utf8')).replace('"GHSA', '"GHSB')); // same size, other bytes
    const err = await loadBundle(opts(dir, url, { verifyUpFrontBytes: 0 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(/aliases\/osv%2Fnpm\.csv does not match its checksum in the manifest/);
    expect(await dumpClairTables(url)).toEqual(before);
    // (It is checked while the load goes on, and awaited before a dry run answers too.)
    const dry = await loadBundle(opts(dir, url, { verifyUpFrontBytes: 0, dryRun: true })).catch((e: unknown) => e);
    expect((dry as Error).message).toMatch(/aliases\/osv%2Fnpm\.csv does not match its checksum in the manifest/);
  });
  it('is refused (exit 3) while it is copied, before anything is committed: Clair\'s tables unchanged, and an unchanged bundle is recognised without reading its data', async () => {
    const url = await createClairDb(20);
    const first = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    await loadBundle(opts(first.dir, url));
    const before = await dumpClairTables(url);
    const second = await makeBundle([BASE[0], { ...BASE[1], records: [...BASE[1].records, { ...EXAMPLE_B, name: 'GHSA-new' }] }], '2026-01-02T00:00:00Z');
    const f = path.join(second.dir, 'vulnerabilities', 'osv%2Fnpm.csv');
    const text = await readFile(f, 'utf8');
    expect(text).toContain('GHSA-new');
    await writeFile(f, text.replace('GHSA-new', 'GHSA-neW')); // same size, other bytes
    // (Files up to 64 MiB are checked before connecting; 0 makes this small bundle take the path of a big one.)
    const err = await loadBundle({ ...opts(second.dir, url), verifyUpFrontBytes: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(/vulnerabilities\/osv%2Fnpm\.csv does not match its checksum in the manifest/);
    await expect(loadBundle(opts(second.dir, url))).rejects.toThrow(/osv%2Fnpm\.csv does not match its checksum/);
    expect(await dumpClairTables(url)).toEqual(before);
    // The first bundle, already loaded, with a data file damaged the same way: nothing of it would
    // be loaded, so the fast path answers without reading it.
    const g = path.join(first.dir, 'vulnerabilities', 'osv%2Fnpm.csv');
    await writeFile(g, (await readFile(g, 'utf8')).replace('"GHSA', '"GHSB'));
    expect((await loadBundle({ ...opts(first.dir, url), verifyUpFrontBytes: 0 })).outcome).toBe('unchanged');
    expect(await dumpClairTables(url)).toEqual(before);
  });
});

describe('failures roll back', () => {
  it('a row that violates a constraint mid-merge leaves Clair\'s tables byte-for-byte as before', async () => {
    const url = await createClairDb(20);
    const first = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    await loadBundle(opts(first.dir, url));
    const before = await dumpClairTables(url);
    const second = await makeBundle([BASE[0], { ...BASE[1], records: [...BASE[1].records, { ...EXAMPLE_B, name: 'GHSA-new' }] }], '2026-01-02T00:00:00Z');
    const copy = `${second.dir}-bad`;
    await cp(second.dir, copy, { recursive: true });
    // lower bound > upper bound: PostgreSQL rejects the range while inserting into vuln.
    // The new record's row (existing rows are not re-read: their hash already has a vuln row).
    await rewriteConsistently(copy, 'vulnerabilities/osv%2Fnpm.csv', (t) => t.split('\n').map((line) => {
      if (!line.includes('"GHSA-new"')) return line;
      const good = '[""{0,1,0,0,0,0,0,0,0,0}"",""{0,1,4,2,0,0,0,0,0,0}"")';
      expect(line).toContain(good);
      return line.replace(good, '[""{0,9,0,0,0,0,0,0,0,0}"",""{0,1,4,2,0,0,0,0,0,0}"")');
    }).join('\n'));
    const err = await loadBundle(opts(copy, url)).catch((e: unknown) => e);
    expect((err as { exitCode: number }).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/insert-vulns\.sql.*range lower bound must be less than or equal to range upper bound/);
    expect(await dumpClairTables(url)).toBe(before);
    const [failed] = await query(url, "SELECT outcome, error FROM clair_bundle.load_history ORDER BY id DESC LIMIT 1");
    expect(failed.outcome).toBe('failed');
    const ok = await loadBundle(opts(second.dir, url));
    expect(ok.outcome).toBe('loaded');
  });
});

describe('initial-load fast path', () => {
  const TABLES = "'vuln', 'uo_vuln', 'vulnerability_alias', 'vulnerability_self'";
  const catalog = (url: string) => query(url, `
    SELECT 'index' AS k, tablename || ' ' || indexname || ' ' || indexdef AS d FROM pg_indexes WHERE tablename IN (${TABLES})
    UNION ALL SELECT 'constraint', conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE conrelid::regclass::text IN (${TABLES})
    UNION ALL SELECT 'column', attrelid::regclass || ' ' || attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' NOT NULL' ELSE '' END
    FROM pg_attribute WHERE attrelid::regclass::text IN (${TABLES}) AND attnum > 0 AND NOT attisdropped ORDER BY 1, 2`);
  it('re-creates every index and constraint it set aside, identically', async () => {
    const url = await createClairDb(20);
    const before = await catalog(url);
    expect(before.filter((r) => r.k !== 'column').length).toBeGreaterThan(14);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    expect((await loadBundle(opts(dir, url))).outcome).toBe('loaded');
    expect(await catalog(url)).toEqual(before);
    // The foreign keys work again: a link to a missing vuln is refused.
    await expect(query(url, 'INSERT INTO uo_vuln (uo, vuln) SELECT max(id), -1 FROM update_operation')).rejects.toThrow(/foreign key/);
    await expect(query(url, 'INSERT INTO vulnerability_alias (vulnerability, alias) SELECT -1, min(id) FROM alias')).rejects.toThrow(/foreign key/);
    await expect(query(url, 'INSERT INTO vulnerability_self (vulnerability, self) SELECT min(vulnerability), min(self) FROM vulnerability_self')).rejects.toThrow(/duplicate key/);
    expect(Number((await query(url, 'SELECT count(*) AS n FROM vulnerability_alias'))[0].n)).toBeGreaterThan(0);
  });

  it('leaves statistics for the tables it filled, so Clair plans with them before autovacuum gets there', async () => {
    const url = await createClairDb(20);
    // Autovacuum kept away: whatever statistics there are, the load wrote them.
    await query(url, `DO $$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY[${TABLES}] LOOP
      EXECUTE format('ALTER TABLE %I SET (autovacuum_enabled = off)', t); END LOOP; END $$`);
    const stats = async () => (await query(url, `SELECT c.relname AS t, count(s.attname)::int AS columns FROM pg_class c
      LEFT JOIN pg_stats s ON s.schemaname = 'public' AND s.tablename = c.relname
      WHERE c.relname IN (${TABLES}) AND c.relkind = 'r' GROUP BY 1 ORDER BY 1`)).map((r) => `${r.t} ${r.columns > 0}`);
    expect(await stats()).toEqual(['uo_vuln false', 'vuln false', 'vulnerability_alias false', 'vulnerability_self false']);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    expect((await loadBundle(opts(dir, url))).outcome).toBe('loaded');
    expect(await stats()).toEqual(['uo_vuln true', 'vuln true', 'vulnerability_alias true', 'vulnerability_self true']);
  });
});

describe('initial load: the biggest vulnerability file copied straight into vuln', () => {
  // debian/updater (24 rows) is the biggest: copied with COPY … FREEZE; osv/npm is staged. Two of
  // its descriptions hold what ends a CSV record (schema 16's copy filters the file record by record).
  const tricky = { ...EXAMPLE_A, name: 'CVE-NEWLINES', description: 'ends like a record,"t"\nthen,"f"\r\nand more\n' };
  // The left-out record has an alias no other record has: not in Clair's alias table before schema 18.
  const leftOutAlias = { ...notVulnerable(tricky), aliases: [{ space: 'CVE', name: '2099-9999' }] };
  // Every third record has a self and two aliases.
  const aliased = (BASE[0].records as Vulnerability[]).map((r, i) => (i % 3 === 0
    ? { ...r, self: { space: 'DEBIAN', name: `DSA-${i}` }, aliases: [{ space: 'CVE', name: `2024-${1000 + i}` }, { space: 'CVE', name: '2024-0001' }] } : r));
  const records: UpdaterInput[] = [{ ...BASE[0], records: [...aliased, tricky, leftOutAlias] }, ...BASE.slice(1)];
  /** Schema 17 (aliases, no vuln.not_vulnerable): the schema-20 stand-in taken back. */
  const clairDb = async (schema: 16 | 17 | 20): Promise<string> => {
    if (schema !== 17) return createClairDb(schema);
    const url = await createClairDb(20);
    await query(url, 'ALTER TABLE vuln DROP COLUMN not_vulnerable');
    await query(url, 'DELETE FROM libvuln_migrations WHERE version > 17');
    return url;
  };
  /** A copy of the bundle in `dir` without the manifest's vuln_csv_as_stored (an earlier build): staged, not copied straight into vuln. */
  const stagedCopy = async (dir: string): Promise<string> => {
    const old = `${dir}-staged`;
    await cp(dir, old, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(old, 'manifest.json'), 'utf8'));
    expect(manifest.vuln_csv_as_stored).toBe(true);
    delete manifest.vuln_csv_as_stored;
    await writeFile(path.join(old, 'manifest.json'), JSON.stringify(manifest) + '\n');
    return old;
  };
  it.each([[20, 24, 0], [17, 22, 2], [16, 22, 2]] as const)('schema %i: leaves its vuln pages all-visible (frozen rows: no rewrite by Clair\'s first reads), the same rows as staging them, and no column default', async (schema, rows, leftOut) => {
    const { dir } = await makeBundle(records, '2026-01-01T00:00:00Z');
    const direct = await clairDb(schema);
    const logged: { msg: string; file?: string; numbered?: number; rows?: number; session?: string; step?: string }[] = [];
    const log = createLogger({ level: 'info', format: 'json', write: (line) => logged.push(JSON.parse(line)) });
    const summary = await loadBundle({ ...opts(dir, direct, { verifyUpFrontBytes: 0 }), log });
    // On schema 20 the second session sent the numbered rows' links into COPYs of the link tables
    // (sql/load/pipe-aliases-begin.sql): all of the copied updater's links.
    const links = "SELECT (SELECT count(*)::int FROM vulnerability_alias l JOIN vuln v ON v.id = l.vulnerability WHERE v.updater = 'debian/updater') AS links, (SELECT count(*)::int FROM vulnerability_self l JOIN vuln v ON v.id = l.vulnerability WHERE v.updater = 'debian/updater') AS selves";
    const piped = logged.filter((l) => l.msg === 'merged' && l.step === 'pipe-aliases');
    if (schema === 20) {
      const [linked] = await query(direct, links);
      expect(linked.links + linked.selves).toBe(25);
      expect(piped).toEqual([expect.objectContaining(linked)]);
    } else expect(piped).toEqual([]);
    // Its alias records were numbered by their vulnerability records (not looked up by hash).
    const numbered = logged.filter((l) => l.msg === 'aliases numbered by their vulnerability records');
    // On schema 20 their names were numbered too (src/load/name-ordinals.ts) and listed for the load.
    expect(numbered).toEqual(schema === 16 ? [] : [expect.objectContaining({
      file: 'aliases/debian%2Fupdater.csv', numbered: 25, rows: 25, ...(schema === 20 ? { names: expect.any(Number) } : {}),
    })]);
    // Both alias files were copied by a second session (schema 16 copies none), and the copied
    // file's keys went straight into row_key after the merge (sql/load/direct-keys-begin.sql); the
    // second session's tables are gone.
    const copied = logged.filter((l) => l.msg === 'copied' && /^(aliases|keys)\//.test(l.file ?? ''));
    expect(copied.map((l) => [l.file, l.session])).toEqual([['keys/osv%2Fnpm.csv', undefined],
      ...(schema === 16 ? [] : [['aliases/debian%2Fupdater.csv', 'second'],
        ...(schema === 20 ? [['aliases/debian%2Fupdater.csv (names)', 'second']] : []), ['aliases/osv%2Fnpm.csv', 'second']]),
      ['keys/debian%2Fupdater.csv (row keys)', undefined]]);
    expect(await query(direct, `SELECT to_regclass('clair_bundle.stage_alias_next') AS t, to_regclass('clair_bundle.stage_alias') AS u,
      to_regclass('clair_bundle.stage_row_key_next') AS v, to_regclass('clair_bundle.stage_alias_name_next') AS w`)).toEqual([{ t: null, u: null, v: null, w: null }]);
    expect(summary.updaters.find((u) => u.name === 'debian/updater')).toMatchObject({ rows: 24, inserted: rows, linked: rows, left_out: leftOut });
    // (The staged osv/npm rows share the last page, which is not all-visible.)
    expect((await query(direct, "SELECT relallvisible FROM pg_class WHERE oid = 'vuln'::regclass"))[0].relallvisible).toBeGreaterThan(0);
    expect(await query(direct, "SELECT count(*)::int AS n FROM vuln WHERE updater = 'debian/updater'")).toEqual([{ n: rows }]);
    expect(await query(direct, "SELECT description FROM vuln WHERE name = 'CVE-NEWLINES'")).toEqual([{ description: tricky.description }]);
    expect(await query(direct, "SELECT column_default FROM information_schema.columns WHERE table_name = 'vuln' AND column_name = 'hash_kind'")).toEqual([{ column_default: null }]);
    // A bundle without the manifest's vuln_csv_as_stored (an earlier build) is staged: same tables.
    const staged = await clairDb(schema);
    const stagedSummary = await loadBundle(opts(await stagedCopy(dir), staged));
    expect((await query(staged, "SELECT relallvisible FROM pg_class WHERE oid = 'vuln'::regclass"))[0].relallvisible).toBe(0);
    expect(await logicalDump(staged)).toBe(await logicalDump(direct));
    expect(stagedSummary.updaters).toEqual(summary.updaters.map((u) => ({ ...u, uo: expect.any(Number) })));
    // The keys stored for the next refresh are the same too (schema 16: the left-out rows' without an id).
    const keys = 'SELECT k.digest, v.hash FROM clair_bundle.row_key k LEFT JOIN vuln v ON v.id = k.vuln ORDER BY 1';
    expect(await query(direct, keys)).toEqual(await query(staged, keys));
    expect((await query(direct, 'SELECT count(*)::int AS n FROM clair_bundle.row_key WHERE vuln IS NULL'))[0].n).toBe(leftOut);
    if (schema < 18) {
      // The records left out were copied from the lines noted while the file was copied (kept in
      // memory); with none kept, a second read of the file finds them: the same tables and keys.
      const again = await clairDb(schema);
      await loadBundle(opts(dir, again, { verifyUpFrontBytes: 0, leftOutInMemoryBytes: 0 }));
      expect(await logicalDump(again)).toBe(await logicalDump(direct));
      expect(await query(again, keys)).toEqual(await query(direct, keys));
    }
    if (schema !== 16) {
      // Alias names too: none only a left-out record had.
      const names = 'SELECT ns.namespace, a.name FROM alias a JOIN alias_namespace ns ON ns.id = a.namespace ORDER BY 1, 2';
      expect(await query(direct, names)).toEqual(await query(staged, names));
      expect((await query(direct, names)).some((r) => r.name === '2099-9999')).toBe(schema === 20);
    }
  });

  it('schema 20: the alias links are piped also when the second session ends after this one needs them; without a writable temporary directory for them, link-aliases.sql links those rows: the same tables; the links\' files are removed', async () => {
    const { dir } = await makeBundle(records, '2026-01-01T00:00:00Z');
    const piped = await clairDb(20);
    const tmp = path.join(dir, '..', `${path.basename(dir)}-tmp`);
    await mkdir(tmp);
    const saved = process.env.TMPDIR;
    const loadLogged = async (url: string) => {
      const logged: { msg: string; step?: string; reason?: string }[] = [];
      const log = createLogger({ level: 'info', format: 'json', write: (line) => logged.push(JSON.parse(line)) });
      await loadBundle({ ...opts(dir, url), log });
      return logged;
    };
    let linked: { msg: string; step?: string; reason?: string; ms?: number }[];
    let unlinked: typeof linked;
    let late: typeof linked;
    const unpiped = await clairDb(20);
    const waited = await clairDb(20);
    try {
      process.env.TMPDIR = tmp;
      linked = await loadLogged(piped);
      // The second session done after this one reached link-aliases.sql (held by the test hook
      // after its last copy of the file, before the links are complete): they are piped all the same.
      process.env.CLAIR_BUNDLE_TEST_PAUSE = 'copy:aliases/debian%2Fupdater.csv (names):1500';
      late = await loadLogged(waited);
      delete process.env.CLAIR_BUNDLE_TEST_PAUSE;
      // (A file where the directory should be: it cannot be written.)
      process.env.TMPDIR = path.join(dir, 'manifest.json');
      unlinked = await loadLogged(unpiped);
    } finally {
      process.env.TMPDIR = saved;
      delete process.env.CLAIR_BUNDLE_TEST_PAUSE;
    }
    expect(linked.filter((l) => l.step === 'pipe-aliases')).toHaveLength(1);
    expect(late.filter((l) => l.step === 'pipe-aliases')).toHaveLength(1);
    expect(late.find((l) => l.step === 'wait-side-aliases')!.ms).toBeGreaterThan(500);
    expect(await logicalDump(waited)).toBe(await logicalDump(piped));
    expect(await readdir(tmp)).toEqual([]);
    expect(unlinked.filter((l) => l.step === 'pipe-aliases')).toEqual([]);
    expect(unlinked.filter((l) => l.msg.startsWith('no temporary files for the alias links'))).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('ENOTDIR') })]);
    expect(await logicalDump(unpiped)).toBe(await logicalDump(piped));
  });

  it('schema 20: the second session copies only the alias rows whose links node did not collect; when those links cannot be piped (names past the numbering\'s limit), the load\'s session copies the rest: the same tables', async () => {
    const ALIASES = 'aliases/debian%2Fupdater.csv';
    const { dir } = await makeBundle(records, '2026-01-01T00:00:00Z');
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    const aliasRows: number = manifest.updaters.find((u: { name: string }) => u.name === 'debian/updater').aliases.rows;
    type Line = { msg: string; step?: string; file?: string; rows?: number; linked?: number; phase?: string; session?: string };
    const loadLogged = async (url: string) => {
      const logged: Line[] = [];
      const log = createLogger({ level: 'debug', format: 'json', write: (line) => logged.push(JSON.parse(line)) });
      await loadBundle({ ...opts(dir, url), log });
      return logged;
    };
    const piped = await clairDb(20);
    const limited = await clairDb(20);
    const pipedLog = await loadLogged(piped);
    let limitedLog: Line[];
    try {
      process.env.CLAIR_BUNDLE_TEST_MAX_NAMES = '3';
      limitedLog = await loadLogged(limited);
    } finally {
      delete process.env.CLAIR_BUNDLE_TEST_MAX_NAMES;
    }
    const copied = (logged: Line[], file: string) => logged.filter((l) => l.msg === 'copied' && l.file === file).map((l) => l.rows);
    // Piped: the rows whose links were collected are never copied.
    const linked = pipedLog.find((l) => l.msg === 'aliases numbered by their vulnerability records')!.linked!;
    expect(linked).toBeGreaterThan(0);
    expect(copied(pipedLog, ALIASES)).toEqual([aliasRows - linked]);
    expect(pipedLog.filter((l) => l.step === 'pipe-aliases')).toHaveLength(1);
    expect(pipedLog.filter((l) => l.msg.startsWith('alias links not piped'))).toEqual([]);
    // Past the limit: fewer rows linked (those before it gave up), and those copied by the load's
    // session after the second one (its names collected then).
    const limitedLinked = limitedLog.find((l) => l.msg === 'aliases numbered by their vulnerability records')!.linked!;
    expect(limitedLinked).toBeGreaterThan(0);
    expect(limitedLinked).toBeLessThan(linked);
    expect(limitedLog.filter((l) => l.step === 'pipe-aliases')).toEqual([]);
    expect(limitedLog.filter((l) => l.msg.startsWith('alias links not piped'))).toEqual([expect.objectContaining({ rows: limitedLinked })]);
    expect(copied(limitedLog, ALIASES)).toEqual([aliasRows - limitedLinked]);
    expect(copied(limitedLog, `${ALIASES} (linked rows)`)).toEqual([limitedLinked]);
    expect(await logicalDump(limited)).toBe(await logicalDump(piped));
  });

  it('schema 20: alias rows of the copied updater that its keys do not number (its alias file out of their order) go by their hash to the copied rows: the same tables as staging them', async () => {
    const ALIASES = 'aliases/debian%2Fupdater.csv';
    const { dir } = await makeBundle(records, '2026-01-01T00:00:00Z');
    // The records in reverse order: the keys number only the first record's rows (their last).
    await rewriteConsistently(dir, ALIASES, (t) => {
      const [header, ...rows] = t.split('\n').filter((l) => l !== '');
      return `${[header, ...rows.reverse()].join('\n')}\n`;
    });
    const logged: { msg: string; numbered?: number; rows?: number }[] = [];
    const direct = await clairDb(20);
    await loadBundle({ ...opts(dir, direct), log: createLogger({ level: 'info', format: 'json', write: (line) => logged.push(JSON.parse(line)) }) });
    const numbered = logged.find((l) => l.msg === 'aliases numbered by their vulnerability records')!;
    expect(numbered.numbered).toBeGreaterThan(0);
    expect(numbered.numbered).toBeLessThanOrEqual(3);
    expect(numbered.rows).toBeGreaterThan(10);
    const staged = await clairDb(20);
    await loadBundle(opts(await stagedCopy(dir), staged));
    const expected = await logicalDump(staged);
    // (Every alias row a link, an alias or a self; other updaters' too.)
    expect(expected.split('\n').filter((l) => /^(alias|self) /.test(l)).length).toBeGreaterThanOrEqual(numbered.rows!);
    expect(await logicalDump(direct)).toBe(expected);
  });

  it('schema 17: a record left out whose content a staged updater loads as a vulnerability: its aliases go to that row, as when staged', async () => {
    // osv/npm (staged) has the left-out record's content as a vulnerability (invert is not hashed).
    const both: UpdaterInput[] = [records[0], { ...BASE[1], records: [...(BASE[1].records as Vulnerability[]), { ...leftOutAlias, invert: false, updater: 'osv/npm' }] }];
    const { dir } = await makeBundle(both, '2026-01-01T00:00:00Z');
    const direct = await clairDb(17);
    expect((await loadBundle(opts(dir, direct))).updaters.find((u) => u.name === 'debian/updater')).toMatchObject({ inserted: 22, left_out: 2 });
    const staged = await clairDb(17);
    await loadBundle(opts(await stagedCopy(dir), staged));
    const expected = await logicalDump(staged);
    expect(expected).toMatch(/^alias [0-9a-f]{32} CVE:2099-9999$/m);
    expect(await logicalDump(direct)).toBe(expected);
  });

  it('schema 16: refuses the file if it changes between its two reads (the records left out must be the same, when not kept in memory)', async () => {
    const deb = [...variations(EXAMPLE_A, 12), ...variations(notVulnerable(EXAMPLE_A), 8, 'nv')];
    const { dir } = await makeBundle([{ name: 'debian/updater', records: deb }, BASE[1]], '2026-01-01T00:00:00Z');
    const file = 'vulnerabilities/debian%2Fupdater.csv';
    const url = await createClairDb(16);
    const before = await dumpClairTables(url);
    // Right after the first read (copied into vuln), one "not vulnerable" record becomes a vulnerable one.
    const log = createLogger({ level: 'info', format: 'json', write: (line) => {
      if (JSON.parse(line).msg === 'copied' && JSON.parse(line).file === file) {
        const abs = path.join(dir, file);
        writeFileSync(abs, readFileSync(abs, 'utf8').replace(',"t"\n', ',"f"\n'));
      }
    } });
    // (With the records left out kept in memory, the file is read once: none kept here.)
    const err = await loadBundle({ ...opts(dir, url, { leftOutInMemoryBytes: 0 }), log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(/vulnerabilities\/debian%2Fupdater\.csv changed while it was being loaded/);
    expect(await dumpClairTables(url)).toBe(before);
  });

  it.each([
    // (Node checks the rows it copies as it converts them: src/load/copied-row-checks.ts.)
    ['a normalized severity Clair cannot read (refused while converted)', (l: string) => l.replace(',"Medium","libfoo",', ',"Huge","libfoo",'),
      /normalized_severity "Huge" is not one of Unknown, Negligible, Low, Medium, High, Critical$/, 3],
    // (Its COPY in binary format reads the time in node, as on schema 18+: exit 3, by record.)
    ['a time that is not one (refused while converted)', (l: string) => l.replace(/,"\d{4}-\d\d-\d\dT[^"]*",/, ',"someday",'),
      /issued "someday" is not an RFC 3339 UTC time, as a bundle holds it$/, 3],
  ])('schema 16: refuses %s after records it left out, with the file\'s line or record', async (_what, edit, message, exit) => {
    // Records "not vulnerable" are spread over the file (sorted by hash); the last record is kept.
    const deb = [...variations(EXAMPLE_A, 12), ...variations(notVulnerable(EXAMPLE_A), 8, 'nv')];
    const { dir } = await makeBundle([{ name: 'debian/updater', records: deb }, BASE[1]], '2026-01-01T00:00:00Z');
    const file = 'vulnerabilities/debian%2Fupdater.csv';
    const lines = (await readFile(path.join(dir, file), 'utf8')).split('\n');
    const bad = lines.findLastIndex((l) => l.endsWith(',"f"'));
    expect(lines.slice(1, bad).filter((l) => l.endsWith(',"t"')).length).toBeGreaterThan(0);
    await rewriteConsistently(dir, file, (t) => t.split('\n').map((l, i) => (i === bad ? edit(l) : l)).join('\n'));
    const url = await createClairDb(16);
    const before = await dumpClairTables(url);
    const err = await loadBundle(opts(dir, url)).catch((e: unknown) => e);
    expect(err, String((err as Error).message ?? JSON.stringify(err))).toBeInstanceOf(Error);
    expect((err as { exitCode?: number }).exitCode).toBe(exit);
    // (Line n + 1 holds record n.)
    expect((err as Error).message).toContain(exit === 5 ? `${file} line ${bad + 1}: ` : `${file} record ${bad}: `);
    expect((err as Error).message).toMatch(message);
    expect(await dumpClairTables(url)).toBe(before);
  });

  it.each([
    // (Node checks the rows it copies as it converts them, src/load/copied-row-checks.ts: exit 3, by record.)
    ['a normalized severity Clair cannot read', (l: string) => l.replace(',"Medium","libfoo",', ',"Huge","libfoo",'),
      /^vulnerabilities\/debian%2Fupdater\.csv record 2: normalized_severity "Huge" is not one of Unknown, Negligible, Low, Medium, High, Critical$/, 3],
    ['an unquoted empty field (NULL) for a text column', (l: string) => l.replace(',"Medium","libfoo",', ',,"libfoo",'),
      /^vulnerabilities\/debian%2Fupdater\.csv record 2: normalized_severity: an empty unquoted field \(NULL\) where a value is required$/, 3],
    ['a row of another updater', (l: string) => l.replace(',"debian/updater",', ',"osv/npm",'),
      /^vulnerabilities\/debian%2Fupdater\.csv record 2: updater "osv\/npm" in the file of updater debian\/updater$/, 3],
    // (Its COPY in binary format reads the time in node: a bundle that does not hold one is invalid.)
    ['a time that is not one (refused while converted, exit 3)', (l: string) => l.replace(/,"\d{4}-\d\d-\d\dT[^"]*",/, ',"someday",'),
      /^vulnerabilities\/debian%2Fupdater\.csv record 2: issued "someday" is not an RFC 3339 UTC time, as a bundle holds it$/, 3],
  ])('refuses %s with the file and record or line (exit 5 unless said), rolled back', async (_what, edit, message, exit = 5) => {
    const url = await createClairDb(20);
    const before = await dumpClairTables(url);
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    await rewriteConsistently(dir, 'vulnerabilities/debian%2Fupdater.csv', (t) => t.split('\n').map((l, i) => (i === 2 ? edit(l) : l)).join('\n'));
    const err = await loadBundle(opts(dir, url)).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(exit);
    expect((err as Error).message).toMatch(message);
    expect(await dumpClairTables(url)).toBe(before);
    expect((await query(url, "SELECT column_default FROM information_schema.columns WHERE table_name = 'vuln' AND column_name = 'hash_kind'"))[0].column_default).toBeNull();
    // Nor the staging tables that are not temporary ones (the second session's too: it was
    // copying the alias files while this session checked the copied rows).
    expect(await query(url, "SELECT to_regclass('clair_bundle.stage_alias') AS t, to_regclass('clair_bundle.stage_alias_next') AS u, to_regclass('clair_bundle.stage_alias_name_next') AS v")).toEqual([{ t: null, u: null, v: null }]);
  });

  describe('the alias files, copied by a second session meanwhile', () => {
    const ALIASES = 'aliases/debian%2Fupdater.csv';
    const clean = async () => {
      const url = await createClairDb(20);
      await loadBundle(opts((await makeBundle(records, '2026-01-01T00:00:00Z')).dir, url));
      return logicalDump(url);
    };

    it.each([
      ['', false],
      [', also when the load\'s session finds a record it refuses meanwhile (the aliases came first: the same error each time)', true],
    ])('a record that session refuses fails the load with its file and line (exit 5), rolled back, its table dropped%s', async (_what, vulnToo) => {
      // A record too long for Clair's lookup index, which prepare-merge.sql refuses after the COPY
      // into vuln (node noted it as long) and while the aliases are copied.
      const noise = Array.from({ length: 94 }, (_, i) => createHash('md5').update(String(i)).digest('hex')).join('').slice(0, 3000);
      const tooLong = { ...EXAMPLE_A, name: 'CVE-NOISE', package: { ...EXAMPLE_A.package!, name: noise } };
      const { dir } = await makeBundle(vulnToo ? [{ ...records[0], records: [...(records[0].records as Vulnerability[]), tooLong] }, ...records.slice(1)] : records,
        '2026-01-01T00:00:00Z');
      if (vulnToo) {
        const alone = await createClairDb(20);
        expect(String(await loadBundle(opts(dir, alone)).catch((e: unknown) => e))).toMatch(/debian%2Fupdater\.csv: record CVE-NOISE \(hash [0-9a-f]{32}\): its package, distribution and repository fields do not fit one entry of Clair's vuln_lookup_idx/);
      }
      const lines = (await readFile(path.join(dir, ALIASES), 'utf8')).split('\n');
      const bad = lines.length - 3; // (an index: the file's line bad + 1, not the last record)
      expect(lines[bad]).toMatch(/^"\\x[0-9a-f]{32}","alias",/);
      await rewriteConsistently(dir, ALIASES, (t) => t.split('\n').map((l, i) => (i === bad ? l.replace(',"alias",', ',"bogus",') : l)).join('\n'));
      const url = await createClairDb(20);
      const before = await dumpClairTables(url);
      // (With the vulnerability record too, that session waits before it copies, so the load's
      // session has refused its record by then.)
      process.env.CLAIR_BUNDLE_TEST_PAUSE = vulnToo ? 'side-aliases-begin:1500' : '';
      const err = await loadBundle(opts(dir, url)).catch((e: unknown) => e).finally(() => delete process.env.CLAIR_BUNDLE_TEST_PAUSE);
      expect((err as { exitCode?: number }).exitCode).toBe(5);
      expect((err as Error).message).toMatch(new RegExp(`^load failed and was rolled back: aliases/debian%2Fupdater\\.csv line ${bad + 1}: .*check constraint`));
      expect(await dumpClairTables(url)).toBe(before);
      expect(await query(url, "SELECT to_regclass('clair_bundle.stage_alias') AS t, to_regclass('clair_bundle.stage_alias_next') AS u, to_regclass('clair_bundle.stage_alias_name_next') AS v")).toEqual([{ t: null, u: null, v: null }]);
      expect(await query(url, 'SELECT outcome FROM clair_bundle.load_history')).toEqual([{ outcome: 'failed' }]);
    });

    it('names it numbered that Clair stores already are looked up instead (a Clair whose vuln is empty but not its alias table): the same tables, their ids kept', async () => {
      const { dir } = await makeBundle(records, '2026-01-01T00:00:00Z');
      const url = await createClairDb(20);
      // One of the numbered names, and one the bundle does not have.
      await query(url, `INSERT INTO alias_namespace (namespace) VALUES ('CVE'), ('OTHER');
        INSERT INTO alias (namespace, name) SELECT id, '2024-0001' FROM alias_namespace WHERE namespace = 'CVE';
        INSERT INTO alias (namespace, name) SELECT id, 'X-1' FROM alias_namespace WHERE namespace = 'OTHER'`);
      const before = await query(url, 'SELECT a.id, a.name FROM alias a ORDER BY a.id');
      await loadBundle(opts(dir, url));
      expect(await query(url, "SELECT a.id, a.name FROM alias a WHERE a.name IN ('2024-0001', 'X-1') ORDER BY a.id")).toEqual(before);
      const dump = (await logicalDump(url)).split('\n').filter((l) => !l.includes('X-1')).join('\n');
      expect(dump).toBe(await clean());
    });

    it('a keys file whose digest is not hex (the copied file\'s keys go straight into row_key, converted in node) fails the load with its file and record (exit 3), rolled back, the second session\'s tables dropped', async () => {
      const KEYS = 'keys/debian%2Fupdater.csv';
      const { dir } = await makeBundle(records, '2026-01-01T00:00:00Z');
      await rewriteConsistently(dir, KEYS, (t) => t.split('\n').map((l, i) => (i === 4 ? l.replace(/^("[^"]*"),"\\x[0-9a-f]/, '$1,"\\xg') : l)).join('\n'));
      const url = await createClairDb(20);
      const before = await dumpClairTables(url);
      const err = await loadBundle(opts(dir, url)).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/^keys\/debian%2Fupdater\.csv record 5: digest "\\\\xg[0-9a-f]+" is not \\x and hex digits, as a bundle holds it$/);
      expect((err as { exitCode?: number }).exitCode).toBe(3);
      expect(await dumpClairTables(url)).toBe(before);
      expect(await query(url, "SELECT to_regclass('clair_bundle.stage_alias_next') AS u, to_regclass('clair_bundle.stage_alias_name_next') AS v")).toEqual([{ u: null, v: null }]);
    });

    it('a keys record without the six fields fails the load with its file and record (exit 3), rolled back', async () => {
      const KEYS = 'keys/debian%2Fupdater.csv';
      const { dir } = await makeBundle(records, '2026-01-01T00:00:00Z');
      await rewriteConsistently(dir, KEYS, (t) => t.split('\n').map((l, i) => (i === 6 ? l.replace(/,"[0-9]+"$/, '') : l)).join('\n'));
      const url = await createClairDb(20);
      const before = await dumpClairTables(url);
      const err = await loadBundle(opts(dir, url)).catch((e: unknown) => e);
      expect((err as { exitCode?: number }).exitCode).toBe(3);
      expect((err as Error).message).toMatch(/keys\/debian%2Fupdater\.csv record 6: 5 fields, expected 6/);
      expect(await dumpClairTables(url)).toBe(before);
    });

    it('that session waits for its files as long as the load takes to get there, whatever --statement-timeout says', async () => {
      const { dir } = await makeBundle(records, '2026-01-01T00:00:00Z');
      const url = await createClairDb(20);
      // The load holds on three times (each shorter than the timeout, which also ends a session
      // idle in its transaction) before it copies that file; the other session, opened before, has
      // nothing to do until then.
      process.env.CLAIR_BUNDLE_TEST_PAUSE = 'copy:keys/osv%2Fnpm.csv:700,plan-keyed:700,copy:enrichments/clair.cvss.csv:700';
      await loadBundle(opts(dir, url, { statementTimeoutMs: 1000 })).finally(() => delete process.env.CLAIR_BUNDLE_TEST_PAUSE);
      expect(await logicalDump(url)).toBe(await clean());
    });

    // (A killed load's second session may have left its rows and their distinct names.)
    const leftBehind = `CREATE SCHEMA clair_bundle; CREATE UNLOGGED TABLE clair_bundle.stage_alias_next (hash bytea); INSERT INTO clair_bundle.stage_alias_next VALUES ('\\x00');
      CREATE UNLOGGED TABLE clair_bundle.stage_alias_name_next (namespace text, name text); INSERT INTO clair_bundle.stage_alias_name_next VALUES ('CVE', 'CVE-LEFT-BEHIND')`;

    it('the tables that a killed load left are dropped; the load is as without them', async () => {
      const url = await createClairDb(20);
      await query(url, leftBehind);
      await loadBundle(opts((await makeBundle(records, '2026-01-01T00:00:00Z')).dir, url));
      expect(await logicalDump(url)).toBe(await clean());
      expect(await query(url, "SELECT to_regclass('clair_bundle.stage_alias_next') AS t, to_regclass('clair_bundle.stage_alias_name_next') AS u")).toEqual([{ t: null, u: null }]);
    });

    it('a load without that session never reads the alias names a killed load\'s second session left', async () => {
      const url = await createClairDb(20);
      await query(url, `ALTER DATABASE ${new URL(url).pathname.slice(1)} SET default_transaction_isolation = 'repeatable read'`);
      await query(url, leftBehind);
      await loadBundle(opts((await makeBundle(records, '2026-01-01T00:00:00Z')).dir, url));
      expect(await query(url, "SELECT count(*)::int AS n FROM alias WHERE name = 'CVE-LEFT-BEHIND'")).toEqual([{ n: 0 }]);
      expect(await query(url, 'SELECT count(*)::int AS n FROM alias')).not.toEqual([{ n: 0 }]);
      expect(await logicalDump(url)).toBe(await clean());
      expect(await query(url, "SELECT to_regclass('clair_bundle.stage_alias_name_next') AS t")).toEqual([{ t: null }]);
    });

    it('not when the load\'s transaction would not see that session\'s rows (REPEATABLE READ by default): copied in the load\'s session, the same tables', async () => {
      const url = await createClairDb(20);
      await query(url, `ALTER DATABASE ${new URL(url).pathname.slice(1)} SET default_transaction_isolation = 'repeatable read'`);
      const logged: { msg: string; file?: string; session?: string }[] = [];
      const log = createLogger({ level: 'info', format: 'json', write: (line) => logged.push(JSON.parse(line)) });
      await loadBundle({ ...opts((await makeBundle(records, '2026-01-01T00:00:00Z')).dir, url), log });
      expect(logged.filter((l) => l.msg === 'copied' && l.file === ALIASES).map((l) => l.session)).toEqual([undefined]);
      expect(logged.some((l) => /second session/.test(l.msg))).toBe(false);
      expect(await logicalDump(url)).toBe(await clean());
    });
  });
});

describe("Clair's lookup index decides what is too long, after PostgreSQL compressed the entry", () => {
  it('a 3000-byte package name that compresses well is stored (as claircore stores it); 3000 bytes that do not are refused naming the record, rolled back', async () => {
    const url = await createClairDb(20);
    const long = { ...EXAMPLE_A, name: 'CVE-LONG', package: { ...EXAMPLE_A.package, name: 'p'.repeat(3000) } };
    const ok = await makeBundle([{ name: 'debian/updater', records: [EXAMPLE_A, long] }], '2026-01-01T00:00:00Z');
    expect((await loadBundle(opts(ok.dir, url))).outcome).toBe('loaded');
    expect(await query(url, "SELECT octet_length(package_name) AS n FROM vuln WHERE name = 'CVE-LONG'")).toEqual([{ n: 3000 }]);
    const before = await dumpClairTables(url);
    const noise = Array.from({ length: 94 }, (_, i) => createHash('md5').update(String(i)).digest('hex')).join('').slice(0, 3000);
    const bad = await makeBundle([{ name: 'debian/updater', records: [EXAMPLE_A, { ...long, name: 'CVE-NOISE', package: { ...long.package, name: noise } }] }], '2026-01-02T00:00:00Z');
    const err = await loadBundle(opts(bad.dir, url)).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/vulnerabilities\/debian%2Fupdater\.csv: record CVE-NOISE \(hash [0-9a-f]{32}\): its package, distribution and repository fields do not fit one entry of Clair's vuln_lookup_idx \(index row size \d+ exceeds/);
    expect(await dumpClairTables(url)).toEqual(before);
  });
});

describe('content shared by two updaters', () => {
  it.each([16, 20] as const)('is stored once (first updater by name) and linked from both (schema %i)', async (schema) => {
    const url = await createClairDb(schema);
    const withAliases = { ...EXAMPLE_A, self: EXAMPLE_B.self, aliases: EXAMPLE_B.aliases };
    const shared = { ...withAliases, name: 'CVE-SHARED' };
    const { dir } = await makeBundle([
      { name: 'zz/updater', records: [{ ...shared, updater: 'zz/updater' }, { ...withAliases, updater: 'zz/updater', name: 'CVE-ZZ' }] },
      { name: 'aa/updater', records: [{ ...shared, updater: 'aa/updater' }] },
    ], '2026-01-01T00:00:00Z');
    const s = await loadBundle(opts(dir, url));
    expect(s.updaters.map((u) => [u.name, u.inserted, u.linked])).toEqual([['aa/updater', 1, 1], ['zz/updater', 1, 2]]);
    const rows = await query(url, `SELECT v.name, v.updater, array_agg(o.updater ORDER BY o.updater) AS linked FROM vuln v
      JOIN uo_vuln l ON l.vuln = v.id JOIN update_operation o ON o.id = l.uo GROUP BY v.name, v.updater ORDER BY v.name`);
    expect(rows).toEqual([
      { name: 'CVE-SHARED', updater: 'aa/updater', linked: ['aa/updater', 'zz/updater'] },
      { name: 'CVE-ZZ', updater: 'zz/updater', linked: ['zz/updater'] },
    ]);
    if (schema === 20) {
      // zz/updater was copied straight into vuln and gave the shared row up: its alias rows link to
      // the row kept, not to the one given up.
      const links = await query(url, `SELECT v.name, n.namespace || ' ' || a.name AS alias, false AS self FROM vulnerability_alias l
        JOIN vuln v ON v.id = l.vulnerability JOIN alias a ON a.id = l.alias JOIN alias_namespace n ON n.id = a.namespace
        UNION ALL SELECT v.name, n.namespace || ' ' || a.name, true FROM vulnerability_self l
        JOIN vuln v ON v.id = l.vulnerability JOIN alias a ON a.id = l.self JOIN alias_namespace n ON n.id = a.namespace ORDER BY 1, 3, 2`);
      expect(links).toEqual(['CVE-SHARED', 'CVE-ZZ'].flatMap((name) => [
        { name, alias: 'CVE 2024-0001', self: false }, { name, alias: 'GHSA abcd-efgh-ijkl', self: true }]));
      expect(await query(url, `SELECT count(*)::int AS n FROM (SELECT vulnerability FROM vulnerability_alias UNION ALL SELECT vulnerability FROM vulnerability_self) l
        WHERE NOT EXISTS (SELECT 1 FROM vuln v WHERE v.id = l.vulnerability)`)).toEqual([{ n: 0 }]);
    }
  });

  it('in a refresh, with stored and new content shared: each stored once, linked from both new update operations', async () => {
    const url = await createClairDb(20);
    const shared = { ...EXAMPLE_A, name: 'CVE-SHARED' };
    const shared2 = { ...EXAMPLE_A, name: 'CVE-SHARED-2' };
    const first = await makeBundle([
      { name: 'zz/updater', records: [{ ...shared, updater: 'zz/updater' }, { ...EXAMPLE_A, updater: 'zz/updater', name: 'CVE-ZZ' }] },
      { name: 'aa/updater', records: [{ ...shared, updater: 'aa/updater' }] },
    ], '2026-01-01T00:00:00Z');
    await loadBundle(opts(first.dir, url));
    const second = await makeBundle([
      { name: 'zz/updater', records: [{ ...shared, updater: 'zz/updater' }, { ...shared2, updater: 'zz/updater' }, { ...EXAMPLE_A, updater: 'zz/updater', name: 'CVE-ZZ-2' }] },
      { name: 'aa/updater', records: [{ ...shared, updater: 'aa/updater' }, { ...shared2, updater: 'aa/updater' }] },
    ], '2026-01-02T00:00:00Z');
    const s = await loadBundle(opts(second.dir, url));
    expect(s.updaters.map((u) => [u.name, u.inserted, u.linked])).toEqual([['aa/updater', 1, 2], ['zz/updater', 1, 3]]);
    const rows = await query(url, `SELECT v.name, v.updater, array_agg(o.updater ORDER BY o.updater) AS linked FROM vuln v
      JOIN uo_vuln l ON l.vuln = v.id JOIN latest_update_operations o ON o.id = l.uo GROUP BY v.name, v.updater ORDER BY v.name`);
    expect(rows).toEqual([
      { name: 'CVE-SHARED', updater: 'aa/updater', linked: ['aa/updater', 'zz/updater'] },
      { name: 'CVE-SHARED-2', updater: 'aa/updater', linked: ['aa/updater', 'zz/updater'] },
      { name: 'CVE-ZZ-2', updater: 'zz/updater', linked: ['zz/updater'] },
    ]);
    expect(await query(url, 'SELECT count(*)::int AS n FROM vuln')).toEqual([{ n: 4 }]);
  });
});

describe('trusted links: no per-row foreign-key triggers for a role that may set session_replication_role', () => {
  const SECOND: UpdaterInput[] = [
    { name: 'debian/updater', records: [...BASE[0].records as typeof EXAMPLE_A[], { ...EXAMPLE_A, name: 'CVE-2099-0001' }].filter((r) => r.name !== 'CVE-2023-12345-3') },
    { name: 'osv/npm', records: [EXAMPLE_B, ...variations(EXAMPLE_B, 7)] },
    { name: 'clair.cvss', kind: 'enrichment', records: [EXAMPLE_ENRICHMENT, { ...EXAMPLE_ENRICHMENT, tags: ['CVE-2024-0002'] }] },
  ];
  /** Link rows pointing at no row, and foreign keys not validated: both must be none. */
  const integrity = (url: string) => query(url, `
    SELECT (SELECT count(*) FROM uo_vuln l WHERE NOT EXISTS (SELECT 1 FROM vuln v WHERE v.id = l.vuln)
        OR NOT EXISTS (SELECT 1 FROM update_operation o WHERE o.id = l.uo))::int AS uo_vuln,
      (SELECT count(*) FROM uo_enrich l WHERE NOT EXISTS (SELECT 1 FROM enrichment e WHERE e.id = l.enrich))::int AS uo_enrich,
      (SELECT count(*) FROM vulnerability_alias l WHERE NOT EXISTS (SELECT 1 FROM vuln v WHERE v.id = l.vulnerability)
        OR NOT EXISTS (SELECT 1 FROM alias a WHERE a.id = l.alias))::int AS aliases,
      (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated)::int AS unvalidated,
      (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN ('uo_vuln'::regclass, 'uo_enrich'::regclass,
        'vulnerability_alias'::regclass, 'vulnerability_self'::regclass))::int AS link_fks`);
  /**
   * A login role for this database as README "Least privilege" describes it: a member of the role
   * owning Clair's tables (not of a superuser, whose membership alone would allow the setting),
   * with a schema clair_bundle of its own; plus `grants`.
   */
  async function roleUrl(url: string, grants: string): Promise<string> {
    const name = `cb_link_${createHash('md5').update(url + grants).digest('hex').slice(0, 8)}`;
    const password = createHash('sha256').update(name).digest('hex');
    await query(url, `CREATE ROLE ${name}_owner NOLOGIN; CREATE ROLE ${name} LOGIN PASSWORD '${password}' IN ROLE ${name}_owner;
      DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'm') LOOP
          EXECUTE format('ALTER %s public.%I OWNER TO ${name}_owner', CASE r.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.relname);
        END LOOP;
      END $$;
      GRANT CREATE ON SCHEMA public TO ${name}_owner; CREATE SCHEMA clair_bundle AUTHORIZATION ${name};
      ${grants.replaceAll('$ROLE', name)}`);
    const u = new URL(url);
    u.username = name;
    u.password = password;
    return u.toString();
  }

  it('a role allowed one connection: the alias files of an initial load are copied in the load\'s session (no second one), the same tables', async () => {
    const { dir } = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const superuser = await createClairDb(20);
    await loadBundle(opts(dir, superuser));
    const one = await roleUrl(await createClairDb(20), 'ALTER ROLE $ROLE CONNECTION LIMIT 1;');
    const logged: { msg: string; level: string; file?: string; session?: string; reason?: string }[] = [];
    const log = createLogger({ level: 'info', format: 'json', write: (line) => logged.push(JSON.parse(line)) });
    await loadBundle({ ...opts(dir, one), log });
    expect(logged.filter((l) => l.level === 'warn')).toEqual([expect.objectContaining({
      msg: 'copying every file in this session: a second one could not be opened', reason: expect.stringMatching(/too many connections/),
    })]);
    expect(logged.filter((l) => l.msg === 'copied' && /^(aliases|keys)\/debian/.test(l.file ?? '')).map((l) => [l.file, l.session])).toEqual([
      ['aliases/debian%2Fupdater.csv', undefined], ['keys/debian%2Fupdater.csv (row keys)', undefined]]);
    expect(await logicalDump(one)).toBe(await logicalDump(superuser));
  });

  it('a superuser or a role granted SET on it links that way; a role without it gets the triggers; the same tables, every link valid', async () => {
    const b1 = await makeBundle(BASE, '2026-01-01T00:00:00Z');
    const b2 = await makeBundle(SECOND, '2026-01-02T00:00:00Z');
    const superuser = await createClairDb(20);
    const plain = await roleUrl(await createClairDb(20), '');
    const granted = await roleUrl(await createClairDb(20), 'GRANT SET ON PARAMETER session_replication_role TO $ROLE;');
    const trusted: Record<string, (boolean | undefined)[]> = {};
    for (const [name, url] of Object.entries({ superuser, plain, granted })) {
      const initial = await loadBundle(opts(b1.dir, url));
      const refresh = await loadBundle(opts(b2.dir, url));
      expect(refresh.updaters.map((u) => u.action)).toEqual(['loaded', 'loaded', 'loaded']);
      trusted[name] = [initial.trustedLinks, refresh.trustedLinks];
      // Every link points at a row, every foreign key is still there and validated.
      expect(await integrity(url)).toEqual([{ uo_vuln: 0, uo_enrich: 0, aliases: 0, unvalidated: 0, link_fks: 8 }]);
    }
    expect(trusted).toEqual({ superuser: [true, true], plain: [false, false], granted: [true, true] });
    const expected = await logicalDump(plain);
    expect(expected).toMatch(/^uo_vuln debian\/updater [0-9a-f]{32}$/m);
    expect(await logicalDump(superuser)).toBe(expected);
    expect(await logicalDump(granted)).toBe(expected);
    expect(expected.split('\n').filter((l) => /^(alias|self) /.test(l)).length).toBe(16); // 8 osv/npm records, one alias and one self each
    // The foreign keys still refuse a bad link afterwards (their triggers are back on).
    await expect(query(superuser, 'INSERT INTO uo_vuln (uo, vuln) SELECT max(id), -1 FROM update_operation')).rejects.toThrow(/foreign key/);
  });

  it('while such a load runs, nobody can delete a row its links reference: the delete waits for COMMIT', async () => {
    const url = await createClairDb(20);
    await loadBundle(opts((await makeBundle(BASE, '2026-01-01T00:00:00Z')).dir, url));
    const b2 = await makeBundle(SECOND, '2026-01-02T00:00:00Z');
    const db = new URL(url).pathname.slice(1);
    process.env.CLAIR_BUNDLE_TEST_PAUSE = 'link-vulns:4000';
    const load = loadBundle(opts(b2.dir, url));
    delete process.env.CLAIR_BUNDLE_TEST_PAUSE;
    // The loader sits after link-vulns, its transaction open.
    let holder: { mode: string }[] = [];
    for (let i = 0; i < 100 && holder.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      holder = await query(url, `SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE a.datname = $1 AND a.state = 'idle in transaction' AND l.relation = 'vuln'::regclass AND l.mode = 'ShareLock'`, [db]);
    }
    expect(holder).toEqual([{ mode: 'ShareLock' }]);
    // A row the new update operation links to (an unchanged one, stored by the first load).
    const del = query(url, `SET lock_timeout = '300ms'; DELETE FROM vuln WHERE name = 'CVE-2023-12345-1'`);
    await expect(del).rejects.toThrow(/lock timeout/);
    const summary = await load;
    expect(summary.outcome).toBe('loaded');
    expect(summary.trustedLinks).toBe(true);
    expect(await query(url, `SELECT count(*)::int AS n FROM uo_vuln l JOIN vuln v ON v.id = l.vuln JOIN latest_update_operations o ON o.id = l.uo
      WHERE v.name = 'CVE-2023-12345-1'`)).toEqual([{ n: 1 }]);
  });
});

describe('keyed refresh: only the rows whose keys are new are read from the bundle', () => {
  // 200 + 100 rows: the changes below stay under a twentieth of each updater (plan-keyed.sql).
  const deb = [EXAMPLE_A, ...variations(EXAMPLE_A, 199)];
  const npm = [EXAMPLE_B, ...variations(EXAMPLE_B, 99)];
  const FIRST: UpdaterInput[] = [
    { name: 'debian/updater', records: deb },
    { name: 'osv/npm', records: npm },
    { name: 'clair.cvss', kind: 'enrichment', records: [EXAMPLE_ENRICHMENT] },
  ];
  const SHARED = { ...EXAMPLE_A, name: 'CVE-SHARED' };
  const SECOND: UpdaterInput[] = [
    // one removed, one changed (fixed version), one added, one shared with aa/updater (new updater)
    { name: 'debian/updater', records: [...deb.filter((r) => r.name !== 'CVE-2023-12345-7').map((r) => (r.name === 'CVE-2023-12345-8' ? { ...r, fixedInVersion: '9' } : r)),
      { ...EXAMPLE_A, name: 'CVE-2099-0001' }, SHARED] },
    // same content, one more alias (the row's hash does not change, its key does); one removed
    { name: 'osv/npm', records: npm.filter((r) => r.name !== 'GHSA-abcd-efgh-ijkl-5').map((r) => (r.name === 'GHSA-abcd-efgh-ijkl-3' ? { ...r, aliases: [...r.aliases!, { space: 'RHSA', name: '2099:0001' }] } : r)) },
    { name: 'aa/updater', records: [{ ...SHARED, updater: 'aa/updater' }] },
    { name: 'clair.cvss', kind: 'enrichment', records: [EXAMPLE_ENRICHMENT] },
  ];
  /** The same bundle as one of an earlier build: no row keys, so every row is staged. */
  async function withoutKeys(dir: string): Promise<string> {
    const copy = `${dir}-nokeys`;
    await cp(dir, copy, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(copy, 'manifest.json'), 'utf8'));
    for (const u of manifest.updaters) delete u.keys;
    await writeFile(path.join(copy, 'manifest.json'), JSON.stringify(manifest) + '\n');
    return copy;
  }
  const staged = (s: { updaters: { name: string; rows: number; staged: number }[] }) => Object.fromEntries(s.updaters.map((u) => [u.name, [u.staged, u.rows]]));

  it.each([20, 16] as const)('stages only changed rows (content or aliases), and leaves the same tables as staging every row (schema %i)', async (schema) => {
    const b1 = await makeBundle(FIRST, '2026-01-01T00:00:00Z');
    const b2 = await makeBundle(SECOND, '2026-01-02T00:00:00Z');
    expect(b2.manifest.updaters.find((u) => u.name === 'debian/updater')?.keys).toMatchObject({ file: 'keys/debian%2Fupdater.csv', rows: 201 });
    const keyedDb = await createClairDb(schema);
    const fullDb = await createClairDb(schema);
    await loadBundle(opts(b1.dir, keyedDb));
    await loadBundle(opts(b1.dir, fullDb));
    const keyed = await loadBundle(opts(b2.dir, keyedDb, { verifyUpFrontBytes: 0 }));
    const full = await loadBundle(opts(await withoutKeys(b2.dir), fullDb));
    expect(staged(keyed)).toEqual({ 'aa/updater': [1, 1], 'clair.cvss': [0, 1], 'debian/updater': [3, 201], 'osv/npm': [1, 99] });
    expect(staged(full)).toEqual({ 'aa/updater': [1, 1], 'clair.cvss': [0, 1], 'debian/updater': [201, 201], 'osv/npm': [99, 99] });
    expect(keyed.updaters.map((u) => [u.name, u.inserted, u.linked])).toEqual(full.updaters.map((u) => [u.name, u.inserted, u.linked]));
    const expected = await logicalDump(fullDb);
    if (schema === 20) {
      expect(expected).toContain('alias 8'); // sanity: alias links are compared too
      expect(expected).toMatch(/RHSA:2099:0001/);
    }
    expect(expected).toMatch(/^uo_vuln debian\/updater [0-9a-f]{32}$/m);
    expect(await logicalDump(keyedDb)).toBe(expected);
    // A third load of the same bundle is unchanged; one more refresh is keyed again.
    expect((await loadBundle(opts(b2.dir, keyedDb))).outcome).toBe('unchanged');
    const b3 = await makeBundle([{ ...SECOND[0], records: [...(SECOND[0].records as typeof deb), { ...EXAMPLE_A, name: 'CVE-2099-0002' }] }, ...SECOND.slice(1)], '2026-01-03T00:00:00Z');
    expect(staged(await loadBundle(opts(b3.dir, keyedDb)))['debian/updater']).toEqual([1, 202]);
    expect(staged(await loadBundle(opts(await withoutKeys(b3.dir), fullDb)))['debian/updater']).toEqual([202, 202]);
    expect(await logicalDump(keyedDb)).toBe(await logicalDump(fullDb));
  });

  it('reads the rows to stage into temporary files while it links the others, and removes them; without a writable temporary directory, reads them from the bundle as it copies them: the same tables', async () => {
    const b1 = await makeBundle(FIRST, '2026-01-01T00:00:00Z');
    const b2 = await makeBundle(SECOND, '2026-01-02T00:00:00Z');
    const tmp = path.join(b2.dir, '..', `${path.basename(b2.dir)}-tmp`);
    await mkdir(tmp);
    const [spooledDb, unspooledDb] = [await createClairDb(20), await createClairDb(20)];
    type Logged = { msg: string; step?: string; spooled?: boolean; reason?: string; file?: string; rows?: number };
    const refresh = async (url: string, tmpdir: string) => {
      await loadBundle(opts(b1.dir, url));
      const logged: Logged[] = [];
      const log = createLogger({ level: 'info', format: 'json', write: (line) => logged.push(JSON.parse(line)) });
      const saved = process.env.TMPDIR;
      process.env.TMPDIR = tmpdir;
      try {
        const s = await loadBundle({ ...opts(b2.dir, url, { verifyUpFrontBytes: 0 }), log });
        expect(staged(s)).toEqual({ 'aa/updater': [1, 1], 'clair.cvss': [0, 1], 'debian/updater': [3, 201], 'osv/npm': [1, 99] });
      } finally {
        process.env.TMPDIR = saved;
      }
      return logged;
    };
    const spooled = await refresh(spooledDb, tmp);
    // (A file where the directory should be: it cannot be written.)
    const unspooled = await refresh(unspooledDb, path.join(b2.dir, 'manifest.json'));
    expect(spooled.filter((l) => l.step === 'link-prior').map((l) => l.spooled)).toEqual([true]);
    expect(spooled.filter((l) => l.msg.includes('temporary files'))).toEqual([]);
    expect(unspooled.filter((l) => l.step === 'link-prior').map((l) => l.spooled)).toEqual([false]);
    expect(unspooled.filter((l) => l.msg === 'the rows to stage could not be written to temporary files: their COPYs read them from the bundle')).toHaveLength(1);
    // Both copied the same rows (the keyed updaters' rows to stage: 3 + 1 records, with their alias rows).
    const copies = (logged: Logged[]) => logged.filter((l) => l.msg === 'copied' && l.file !== undefined && !l.file.startsWith('keys/')).map((l) => [l.file, l.rows]);
    expect(copies(spooled)).toEqual(copies(unspooled));
    expect(copies(spooled)).toContainEqual(['vulnerabilities/debian%2Fupdater.csv', 3]);
    expect(await readdir(tmp)).toEqual([]);
    expect(await logicalDump(spooledDb)).toBe(await logicalDump(unspooledDb));
    // and as staging every row
    const fullDb = await createClairDb(20);
    await loadBundle(opts(b1.dir, fullDb));
    await loadBundle(opts(await withoutKeys(b2.dir), fullDb));
    expect(await logicalDump(spooledDb)).toBe(await logicalDump(fullDb));
  });

  it('after an initial load that copied an updater straight into vuln and gave a shared row up to another updater, keys the copied rows by their places', async () => {
    const shared = { ...EXAMPLE_A, name: 'CVE-SHARED' };
    const zz = [{ ...shared, updater: 'zz/updater' }, ...variations({ ...EXAMPLE_A, updater: 'zz/updater' }, 40)];
    const aa: UpdaterInput = { name: 'aa/updater', records: [{ ...shared, updater: 'aa/updater' }] };
    const b1 = await makeBundle([{ name: 'zz/updater', records: zz }, aa], '2026-01-01T00:00:00Z');
    const b2 = await makeBundle([{ name: 'zz/updater', records: [...zz, { ...EXAMPLE_A, updater: 'zz/updater', name: 'CVE-2099-0001' }] }, aa], '2026-01-02T00:00:00Z');
    const keyedDb = await createClairDb(20);
    const fullDb = await createClairDb(20);
    for (const url of [keyedDb, fullDb]) {
      const first = await loadBundle(opts(b1.dir, url));
      expect(first.updaters.map((u) => [u.name, u.inserted, u.linked])).toEqual([['aa/updater', 1, 1], ['zz/updater', 40, 41]]);
    }
    expect(await query(keyedDb, 'SELECT count(*)::int AS n, count(DISTINCT vuln)::int AS ids FROM clair_bundle.row_key WHERE updater = $1', ['zz/updater'])).toEqual([{ n: 41, ids: 41 }]);
    const keyed = await loadBundle(opts(b2.dir, keyedDb));
    expect(staged(keyed)['zz/updater']).toEqual([1, 42]);
    expect(staged(await loadBundle(opts(await withoutKeys(b2.dir), fullDb)))['zz/updater']).toEqual([42, 42]);
    expect(await logicalDump(keyedDb)).toBe(await logicalDump(fullDb));
  });

  it('keeps keys for the "not vulnerable" rows schema 16 leaves out, so a refresh stages them only when they change; after Clair upgrades to schema 20 it stages every row', async () => {
    // 5 "not vulnerable" rows of 206; the second bundle changes one of them.
    const nv = variations(EXAMPLE_A, 5, 'nv').map(notVulnerable);
    const first: UpdaterInput[] = [{ name: 'debian/updater', records: [...deb, ...nv] }, ...FIRST.slice(1)];
    const nv2 = nv.map((r, i) => (i === 0 ? { ...r, fixedInVersion: '9' } : r));
    const second: UpdaterInput[] = [{ ...SECOND[0], records: [...(SECOND[0].records as typeof deb), ...nv2] }, ...SECOND.slice(1)];
    const b1 = await makeBundle(first, '2026-01-01T00:00:00Z');
    const b2 = await makeBundle(second, '2026-01-02T00:00:00Z');
    const keyedDb = await createClairDb(16);
    const fullDb = await createClairDb(16);
    expect((await loadBundle(opts(b1.dir, keyedDb))).updaters.find((u) => u.name === 'debian/updater')?.left_out).toBe(5);
    await loadBundle(opts(b1.dir, fullDb));
    const keyed = await loadBundle(opts(b2.dir, keyedDb, { verifyUpFrontBytes: 0 }));
    const full = await loadBundle(opts(await withoutKeys(b2.dir), fullDb));
    // Three changed rows as before, plus the changed "not vulnerable" one.
    expect(staged(keyed)['debian/updater']).toEqual([4, 206]);
    expect(staged(full)['debian/updater']).toEqual([206, 206]);
    const counts = (s: typeof keyed) => s.updaters.map((u) => [u.name, u.inserted, u.linked, u.left_out]);
    expect(counts(keyed)).toEqual(counts(full));
    expect(counts(keyed)).toContainEqual(['debian/updater', 2, 201, 5]);
    expect(await logicalDump(keyedDb)).toBe(await logicalDump(fullDb));
    // Clair upgrades the schema: "not vulnerable" rows are stored from now on, so keys that stand
    // for rows left out are of no use; every row of the updater is staged, the five stored.
    await query(keyedDb, await readFile(path.join('sql', 'clair-schema', 'matcher-upgrade-20.sql'), 'utf8'));
    const b3 = await makeBundle([{ ...second[0], records: [...(second[0].records as typeof deb), { ...EXAMPLE_A, name: 'CVE-2099-0002' }] }, ...second.slice(1)], '2026-01-03T00:00:00Z');
    const upgraded = await loadBundle(opts(b3.dir, keyedDb));
    expect(staged(upgraded)['debian/updater']).toEqual([207, 207]);
    expect(await matcherQuery(keyedDb, 'libfoo', 'source', 'AND vuln.not_vulnerable')).toHaveLength(5);
    // and the keys now stand for stored rows only: the next refresh is keyed again.
    const b4 = await makeBundle([{ ...second[0], records: [...(second[0].records as typeof deb), { ...EXAMPLE_A, name: 'CVE-2099-0003' }] }, ...second.slice(1)], '2026-01-04T00:00:00Z');
    expect(staged(await loadBundle(opts(b4.dir, keyedDb)))['debian/updater']).toEqual([1, 207]);
  });

  it.each([
    ['the updater was loaded by other means since (its latest update operation is not the one its keys belong to)',
      // Clair's own updater ran once (found nothing): a newer update operation without links.
      "INSERT INTO update_operation (updater, fingerprint, kind) VALUES ('debian/updater', 'clair', 'vulnerability')",
      async (url: string) => {
        expect(await query(url, 'SELECT updater, uo = (SELECT max(id) FROM update_operation o WHERE o.updater = s.updater) AS latest FROM clair_bundle.row_key_source s ORDER BY 1'))
          .toEqual([{ updater: 'aa/updater', latest: true }, { updater: 'debian/updater', latest: true }, { updater: 'osv/npm', latest: true }]);
        expect(await query(url, `SELECT updater, count(*)::int AS n FROM clair_bundle.row_key GROUP BY 1 ORDER BY 1`))
          .toEqual([{ updater: 'aa/updater', n: 1 }, { updater: 'debian/updater', n: 201 }, { updater: 'osv/npm', n: 99 }]);
      }],
    ['a row its keys point at was deleted since (its update operation has fewer links than keys)',
      "DELETE FROM vuln WHERE name = 'CVE-2023-12345-50'",
      async (url: string) => expect((await matcherQuery(url, 'libfoo', 'source')).map((r) => r.name)).toContain('CVE-2023-12345-50')],
  ])('stages every row of an updater when %s', async (_what, disturb, check) => {
    const url = await createClairDb(20);
    await loadBundle(opts((await makeBundle(FIRST, '2026-01-01T00:00:00Z')).dir, url));
    await query(url, disturb);
    const s = await loadBundle(opts((await makeBundle(SECOND, '2026-01-02T00:00:00Z')).dir, url));
    expect(staged(s)['debian/updater']).toEqual([201, 201]);
    expect(staged(s)['osv/npm']).toEqual([1, 99]);
    await check(url);
  });

  it('leaves the keys unused when a CSV was replaced after the build (its manifest entry updated too): every row of it staged', async () => {
    const url = await createClairDb(20);
    await loadBundle(opts((await makeBundle(FIRST, '2026-01-01T00:00:00Z')).dir, url));
    const b2 = await makeBundle(SECOND, '2026-01-02T00:00:00Z');
    await rewriteConsistently(b2.dir, 'vulnerabilities/debian%2Fupdater.csv', (t) => t.replace('"Example overflow in libfoo."', '"Edited after the build."'));
    const s = await loadBundle(opts(b2.dir, url));
    expect(staged(s)['debian/updater']).toEqual([201, 201]);
    expect(staged(s)['osv/npm']).toEqual([1, 99]);
  });

  it('refuses a staged row whose bytes do not match its key (exit 3, rolled back); bytes it does not read are not checked, their row comes from the database', async () => {
    const url = await createClairDb(20);
    await loadBundle(opts((await makeBundle(FIRST, '2026-01-01T00:00:00Z')).dir, url));
    const before = await dumpClairTables(url);
    const b2 = await makeBundle(SECOND, '2026-01-02T00:00:00Z');
    const file = path.join(b2.dir, 'vulnerabilities', 'debian%2Fupdater.csv');
    const text = await readFile(file, 'utf8');
    // The new row (staged), same length, manifest untouched.
    await writeFile(file, text.replace('"CVE-2099-0001"', '"CVE-2099-000X"'));
    const err = await loadBundle(opts(b2.dir, url, { verifyUpFrontBytes: 0 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(/^vulnerabilities\/debian%2Fupdater\.csv: the row at byte \d+ \(with its alias rows in aliases\/debian%2Fupdater\.csv\) does not match its key in keys\/debian%2Fupdater\.csv \(modified or corrupted\)$/);
    expect(await dumpClairTables(url)).toBe(before);
    // A row loaded before and not staged now: never read, so the load goes on with the stored row.
    await writeFile(file, text.replace('"CVE-2023-12345-100"', '"CVE-2023-12345-1X0"'));
    const s = await loadBundle(opts(b2.dir, url, { verifyUpFrontBytes: 0 }));
    expect(staged(s)['debian/updater']).toEqual([3, 201]);
    expect(await query(url, "SELECT count(*)::int AS n FROM vuln WHERE name LIKE 'CVE-2023-12345-1X0'")).toEqual([{ n: 0 }]);
  });

  it('refuses a keys file whose place is not a whole number (node reads the keys for their COPY) with its file and record (exit 3), rolled back', async () => {
    const url = await createClairDb(20);
    await loadBundle(opts((await makeBundle(FIRST, '2026-01-01T00:00:00Z')).dir, url));
    const before = await dumpClairTables(url);
    const b2 = await makeBundle(SECOND, '2026-01-02T00:00:00Z');
    // Its third record's vuln_bytes, with the manifest's sha256 and size made to match.
    await rewriteConsistently(b2.dir, 'keys/debian%2Fupdater.csv', (t) => {
      const l = t.split('\n');
      l[3] = l[3].replace(/^("[^"]*","[^"]*","[^"]*",)"[0-9]+"/, '$1"12x"');
      return l.join('\n');
    });
    for (const upFront of [0, undefined]) {
      const err = await loadBundle(opts(b2.dir, url, upFront === undefined ? {} : { verifyUpFrontBytes: upFront })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BundleError);
      expect((err as BundleError).exitCode).toBe(3);
      expect((err as Error).message).toBe('keys/debian%2Fupdater.csv record 4: vuln_bytes "12x" is not a whole number, as a bundle holds it');
    }
    expect(await dumpClairTables(url)).toBe(before);
  });
});

describe('keyed refresh with row keys that do not match the file', () => {
  it.each([
    ['points at the bytes of another row', (a: string[], b: string[]) => [a[0], a[1], b[2], b[3], a[4], a[5]], 3,
      /^vulnerabilities\/debian%2Fupdater\.csv: the row at byte \d+ \(with its alias rows in aliases\/debian%2Fupdater\.csv\) does not match its key/],
    ['names the hash of another row', (a: string[], b: string[]) => [b[0], a[1], a[2], a[3], a[4], a[5]], 5,
      /resolve-keys\.sql: the row keys of updater debian\/updater do not match its vulnerability file: no row with hash [0-9a-f]{32} was read where its key points/],
  ])('a new row\'s key that %s is refused (exit 3 or 5, as named), rolled back', async (_what, edit, exit, message) => {
    const deb = [EXAMPLE_A, ...variations(EXAMPLE_A, 99)];
    const url = await createClairDb(20);
    const b1 = await makeBundle([{ name: 'debian/updater', records: deb }], '2026-01-01T00:00:00Z');
    await loadBundle(opts(b1.dir, url));
    const before = await dumpClairTables(url);
    const b2 = await makeBundle([{ name: 'debian/updater', records: [...deb, { ...EXAMPLE_A, name: 'CVE-2099-0001' }] }], '2026-01-02T00:00:00Z');
    const keysFile = 'keys/debian%2Fupdater.csv';
    const old = new Set((await readFile(path.join(b1.dir, keysFile), 'utf8')).split('\n').map((l) => l.split(',')[1]));
    await rewriteConsistently(b2.dir, keysFile, (t) => {
      const lines = t.split('\n');
      const i = lines.findIndex((l, n) => n > 0 && l && !old.has(l.split(',')[1]));
      const j = i === 1 ? 2 : 1;
      lines[i] = edit(lines[i].split(','), lines[j].split(',')).join(',');
      return lines.join('\n');
    });
    const err = await loadBundle(opts(b2.dir, url)).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(exit);
    expect((err as Error).message).toMatch(message);
    expect(await dumpClairTables(url)).toBe(before);
  });
});
