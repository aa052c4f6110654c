import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildBundle } from './build.js';
import type { Logger } from './log.js';
import { loadBundle, type LoadSummary } from './load/load.js';
import { readStatus, type Status } from './load/status.js';
import { startCluster } from './pg/cluster.js';
import { PACKAGE_ROOT } from './version.js';

/** The sample mirror shipped in the repository (a real Red Hat VEX excerpt, see samples/README.md). */
export const SAMPLE_MIRROR = path.join(PACKAGE_ROOT, 'samples', 'mirror');

export interface DemoResult {
  summary: LoadSummary;
  status: Status;
  query: { title: string; rows: Record<string, unknown>[] };
}

/** "Which vulnerabilities affect openssl on RHEL 9" through the matcher's own join. */
const SAMPLE_QUERY = `
SELECT v.name, v.fixed_in_version, v.normalized_severity, v.package_arch, v.repo_name
FROM vuln v
JOIN uo_vuln u ON u.vuln = v.id
JOIN latest_update_operations l ON l.id = u.uo AND l.kind = 'vulnerability'
WHERE v.package_name = 'openssl' AND v.repo_key = 'rhel-cpe-repository'
  AND v.repo_name LIKE 'cpe:2.3:_:redhat:enterprise_linux:9:%' AND NOT v.not_vulnerable
ORDER BY v.name, v.repo_name, v.fixed_in_version`;

/**
 * The embedded default: a throwaway PostgreSQL with Clair's matcher schema, a bundle built from
 * the sample feeds, loaded, then status and a sample query. Stops PostgreSQL at the end.
 */
export async function runDemo(log: Logger): Promise<DemoResult> {
  log.info('starting a throwaway PostgreSQL');
  const cluster = await startCluster();
  const work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-demo-'));
  try {
    const admin = new pg.Client(cluster.url('postgres'));
    await admin.connect();
    await admin.query('CREATE DATABASE matcher');
    await admin.end();
    const url = cluster.url('matcher');
    const client = new pg.Client(url);
    await client.connect();
    try {
      log.info("creating Clair's matcher schema (stand-in for Clair's migrations, version 20)");
      for (const f of ['matcher-base.sql', 'matcher-upgrade-20.sql']) {
        await client.query(await readFile(path.join(PACKAGE_ROOT, 'sql', 'clair-schema', f), 'utf8'));
      }
      const bundle = path.join(work, 'bundle');
      log.info('building a bundle from the sample feeds', { mirror: path.relative(process.cwd(), SAMPLE_MIRROR) });
      await buildBundle({ mirror: SAMPLE_MIRROR, out: bundle, log });
      const target = `postgres@127.0.0.1:${cluster.port}/matcher`;
      const summary = await loadBundle({ bundle, connection: { connectionString: url }, target, log });
      const status = await readStatus(client);
      const rows = (await client.query(SAMPLE_QUERY)).rows;
      return { summary, status, query: { title: 'Which vulnerabilities affect openssl on RHEL 9?', rows } };
    } finally {
      await client.end();
    }
  } finally {
    await cluster.stop();
    await rm(work, { recursive: true, force: true });
  }
}
