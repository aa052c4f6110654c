import { execFile } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster } from '../../src/pg/cluster.js';
import type { OracleVersion } from './lib/oracle.js';
import { serveMirror, type MirrorServer } from './lib/serve.js';

/**
 * Conformance setup: builds (or reuses) the claircore oracle binaries, starts a throwaway
 * PostgreSQL, and serves the fixture mirror with `oracle serve` so that clair-bundle's fetch sees
 * exactly the HTTP headers (ETag, Last-Modified) claircore's updaters see inside `oracle load`.
 */
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const ORACLE_DIR = path.join(ROOT, 'test', 'oracle');
/** The shared fixture mirror, next to the repository checkout (overridable for CI layouts). */
const MIRROR = path.resolve(ROOT, process.env.CONFORMANCE_MIRROR ?? '../shared/fixtures/feeds');

let cluster: Cluster | undefined;
let server: MirrorServer | undefined;

async function buildOracles(): Promise<Record<OracleVersion, string>> {
  const started = Date.now();
  const hasGo = await run('go', ['version']).then(() => true, () => false);
  if (!hasGo) {
    // No Go toolchain: only acceptable if the binaries are newer than every oracle source file.
    const bin = path.join(ORACLE_DIR, 'bin');
    const sources = readdirSync(ORACLE_DIR).filter((f) => /\.(go|mod|sum)$/.test(f) || f === 'build.sh');
    const newest = Math.max(...sources.map((f) => statSync(path.join(ORACLE_DIR, f)).mtimeMs));
    const out = {} as Record<OracleVersion, string>;
    for (const v of ['v1.5.48', 'v1.5.54'] as const) {
      const p = path.join(bin, `oracle-${v}`);
      if (!existsSync(p) || statSync(p).mtimeMs < newest) {
        throw new Error(`conformance: Go is not installed and ${p} is missing or older than test/oracle sources`);
      }
      out[v] = p;
    }
    process.stderr.write('conformance: Go not found; using prebuilt test/oracle/bin binaries (newer than their sources)\n');
    return out;
  }
  process.stderr.write('conformance: building the claircore oracle (test/oracle/build.sh; ~90 s with cold Go caches)\n');
  const { stdout } = await run(path.join(ORACLE_DIR, 'build.sh'), [], { maxBuffer: 1 << 24 }).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`conformance: test/oracle/build.sh failed: ${err.message}\n${err.stderr ?? ''}`);
  });
  const out: Partial<Record<OracleVersion, string>> = {};
  for (const line of stdout.trim().split('\n')) {
    const [v, p] = line.split(' ');
    out[v as OracleVersion] = p;
  }
  if (!out['v1.5.48'] || !out['v1.5.54']) throw new Error(`conformance: build.sh printed no binaries:\n${stdout}`);
  process.stderr.write(`conformance: oracle ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return out as Record<OracleVersion, string>;
}

export async function setup(project: TestProject): Promise<void> {
  try {
    await start(project);
  } catch (err) {
    await teardown();
    throw err;
  }
}

async function start(project: TestProject): Promise<void> {
  if (!existsSync(MIRROR)) throw new Error(`conformance: fixture mirror ${MIRROR} not found (set CONFORMANCE_MIRROR)`);
  // Always a throwaway cluster of our own (never TEST_DATABASE_URL): the run creates many databases.
  const [oracles, pgCluster] = await Promise.all([buildOracles(), startCluster()]);
  cluster = pgCluster;
  const adminUrl = cluster.url('postgres');
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.end();
  server = await serveMirror(oracles['v1.5.54'], MIRROR);
  const mirrorUrl = server.url;
  const outDir = process.env.CONFORMANCE_OUT
    ? path.resolve(process.env.CONFORMANCE_OUT)
    : await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-conformance-'));
  await mkdir(outDir, { recursive: true });
  process.stderr.write(`conformance: PostgreSQL on port ${cluster.port}, mirror ${MIRROR} served at ${mirrorUrl}, reports in ${outDir}\n`);
  project.provide('conformance', { adminUrl, oracles, mirrorDir: MIRROR, mirrorUrl, outDir });
}

export async function teardown(): Promise<void> {
  await server?.stop();
  await cluster?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    conformance: {
      adminUrl: string;
      oracles: Record<OracleVersion, string>;
      mirrorDir: string;
      mirrorUrl: string;
      /** Where full reports are written (CONFORMANCE_OUT or a temp directory). */
      outDir: string;
    };
  }
}
