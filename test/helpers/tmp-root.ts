import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Global setup for every test run: one temporary directory for the run, made the workers'
 * TMPDIR (so os.tmpdir() — bundles, mirrors, PostgreSQL clusters of the tests — lands in it), and
 * removed when the last project of the run ends. CLAIR_BUNDLE_KEEP_TMP=1 keeps it for a post-mortem.
 * Projects of one run share it (a count in the environment of the main process).
 */
const COUNT = 'CLAIR_BUNDLE_TEST_TMP_USERS';
const ROOT = 'CLAIR_BUNDLE_TEST_TMP';

export function setup(): void {
  if (!process.env[ROOT]) {
    const root = mkdtempSync(path.join(os.tmpdir(), 'clair-bundle-run-'));
    chmodSync(root, 0o755); // the tests' PostgreSQL runs as the postgres user when we are root
    process.env[ROOT] = root;
    process.env.TMPDIR = root;
  }
  process.env[COUNT] = String(Number(process.env[COUNT] ?? 0) + 1);
}

export function teardown(): void {
  const left = Number(process.env[COUNT] ?? 1) - 1;
  process.env[COUNT] = String(left);
  const root = process.env[ROOT];
  if (left > 0 || !root) return;
  if (!process.env.CLAIR_BUNDLE_KEEP_TMP) rmSync(root, { recursive: true, force: true });
  else process.stdout.write(`test files kept in ${root}\n`);
}
