import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster } from '../../src/pg/cluster.js';

/**
 * Starts one throwaway PostgreSQL for the integration tests (or uses TEST_DATABASE_URL's
 * server) and builds template databases holding Clair's matcher schema at versions 16 and 20.
 */
let cluster: Cluster | undefined;

const ROOT = path.resolve(import.meta.dirname, '../..');

async function sqlFile(name: string): Promise<string> {
  return readFile(path.join(ROOT, 'sql', 'clair-schema', name), 'utf8');
}

export async function setup(project: TestProject): Promise<void> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    cluster = await startCluster();
    adminUrl = cluster.url('postgres');
  }
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  const base = await sqlFile('matcher-base.sql');
  const up20 = await sqlFile('matcher-upgrade-20.sql');
  for (const [name, scripts] of [['tpl_clair16', [base]], ['tpl_clair20', [base, up20]]] as const) {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    const c = new pg.Client(adminUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`));
    await c.connect();
    for (const s of scripts) await c.query(s);
    await c.end();
  }
  await admin.end();
  project.provide('adminUrl', adminUrl);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
  }
}
