import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { setup as setupDb, teardown as teardownDb } from '../helpers/global-setup.js';
import { report } from './lib/report.js';

/**
 * `npm run test:faults`: builds dist/ when a source is newer (the suite runs the real CLI), starts
 * the shared throwaway PostgreSQL with Clair's schema templates (test/helpers/global-setup.ts),
 * and gives every test file a directory for its tally and outputs. Teardown prints the figures
 * table and fails the run on any leaked secret or any fault not survived.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
let outDir = '';
let serverLog: string | undefined;

function newest(dir: string, ext: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, ext));
    else if (e.name.endsWith(ext)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

export async function setup(project: TestProject): Promise<void> {
  const cli = path.join(ROOT, 'dist', 'cli', 'main.cjs');
  if (!existsSync(cli) || newest(path.join(ROOT, 'src'), '.ts') > newest(path.join(ROOT, 'dist'), '.js')) {
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'pipe' });
    } catch (err) {
      // Type errors elsewhere (work in progress) still emit JavaScript; the suite decides.
      const out = String((err as { stdout?: Buffer }).stdout ?? '');
      if (!existsSync(cli)) throw new Error(`build failed:\n${out}`);
    }
  }
  await setupDb(project);
  outDir = process.env.FAULTS_OUT ?? mkdtempSync(path.join(os.tmpdir(), 'clair-bundle-faults-'));
  mkdirSync(path.join(outDir, 'outputs'), { recursive: true });
  project.provide('faultsDir', outDir);
  // The server's own log is scanned for secrets too.
  const admin = new pg.Client(project.getProvidedContext().adminUrl);
  await admin.connect();
  try {
    const dataDir = (await admin.query('SHOW data_directory')).rows[0].data_directory as string;
    const log = path.join(path.dirname(dataDir), 'log');
    if (existsSync(log)) serverLog = log;
  } catch {
    /* TEST_DATABASE_URL: not ours to read */
  } finally {
    await admin.end();
  }
}

export async function teardown(): Promise<void> {
  let failed: string | undefined;
  try {
    if (outDir) {
      const extra = serverLog && existsSync(serverLog) ? [{ name: 'postgresql server log', text: readFileSync(serverLog, 'utf8') }] : [];
      failed = report(outDir, extra, (line) => process.stdout.write(line + '\n'));
    }
  } finally {
    await teardownDb();
  }
  if (failed) {
    process.env.CLAIR_BUNDLE_KEEP_TMP = '1'; // test/helpers/tmp-root.ts keeps the details for a post-mortem
    throw new Error(failed);
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    faultsDir: string;
  }
}
