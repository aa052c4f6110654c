import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/cli.js';

// The shipped entry point (dist/cli/main.cjs) must size libuv's thread pool before node starts it.
// The probe below takes the place of the program the entry imports: it parks 15 opens of FIFOs
// nobody writes to on the pool (each holds a thread until a writer comes), then asks the pool for
// one more read. With 16 threads that read completes; with node's default 4 it waits.
const PROBE = `
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, promises as fsp, constants } from 'node:fs';
import path from 'node:path';
const dir = path.dirname(new URL(import.meta.url).pathname);
const fifos = Array.from({ length: 15 }, (_, i) => path.join(dir, 'fifo' + i));
execFileSync('mkfifo', fifos);
const parked = fifos.map((f) => fsp.open(f, 'r'));
const read = fsp.readFile(new URL(import.meta.url)).then(() => 'free');
let timer;
const verdict = await Promise.race([read, new Promise((r) => (timer = setTimeout(() => r('blocked'), 5000)))]);
clearTimeout(timer);
process.stdout.write(JSON.stringify({ pool: process.env.UV_THREADPOOL_SIZE ?? null, verdict }));
// Let the parked opens finish: a FIFO opened read-write never blocks and counts as its writer.
const writers = fifos.map((f) => openSync(f, constants.O_RDWR | constants.O_NONBLOCK));
await Promise.all(parked.map((p) => p.then((h) => h.close())));
for (const fd of writers) closeSync(fd);
`;

function probe(entry: 'main.cjs' | 'index.js', env: Record<string, string | undefined>): { pool: string | null; verdict: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'launcher-'));
  for (const f of ['main.cjs', 'pool-size.cjs']) copyFileSync(path.join(path.dirname(CLI), f), path.join(dir, f));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
  writeFileSync(path.join(dir, 'index.js'), PROBE);
  const r = spawnSync(process.execPath, [path.join(dir, entry)], { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: undefined, ...env }, timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('entry point (dist/cli/main.cjs)', () => {
  it('is what npm installs as the command and what the helpers run', async () => {
    const pkg = (await import(path.join(ROOT, 'package.json'), { with: { type: 'json' } })).default as { bin: Record<string, string> };
    expect(pkg.bin['clair-bundle']).toBe('dist/cli/main.cjs');
    expect(path.relative(ROOT, CLI)).toBe(path.join('dist', 'cli', 'main.cjs'));
  });

  it('runs the program with a 16-thread pool', () => {
    expect(probe('main.cjs', {})).toEqual({ pool: '16', verdict: 'free' });
  });

  it('the probe sees a 4-thread pool when the ES module is started directly', () => {
    // Setting UV_THREADPOOL_SIZE from an ES module is too late; this is why the entry is CommonJS.
    expect(probe('index.js', {})).toEqual({ pool: null, verdict: 'blocked' });
  });

  it('keeps a pool size already set in the environment', () => {
    expect(probe('main.cjs', { UV_THREADPOOL_SIZE: '4' })).toEqual({ pool: '4', verdict: 'blocked' });
    expect(probe('main.cjs', { UV_THREADPOOL_SIZE: '32' })).toEqual({ pool: '32', verdict: 'free' });
  });
});
