import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_CASES, FEED_CASES, type FeedCase } from './corpus/cases.js';
import { fetchMirrors, SETUPS, type Mirrors } from './corpus/feeds.js';
import { errorLines, run } from './lib/cli.js';
import { clairPart, cloneDb, dropDb, exactDump } from './lib/db.js';
import { tally } from './lib/tally.js';

/**
 * The bad-input corpus (test/faults/corpus/): every case derived from a real fixture file. See
 * corpus/cases.ts for what each case expects.
 */
let mirrors: Mirrors;
let work: string;
const dbs: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-corpus-run-'));
  mirrors = await fetchMirrors();
}, 240_000);

afterAll(async () => {
  await mirrors?.close();
  for (const d of dbs) await dropDb(d);
  // Hundreds of MB of damaged copies: kept only when a case failed (its output names them).
  if (!failedCase && work) await rm(work, { recursive: true, force: true });
});

let failedCase = false;
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failedCase = true;
});

async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, r)));
    else out.push(r);
  }
  return out;
}

const optionArgs = (source: string) => Object.entries(SETUPS.find((s) => s.source === source)!.options ?? {}).flatMap(([k, v]) => ['--option', `${k}=${v}`]);

describe('bad feed files: build exits 3, names the file (and record), writes no bundle', () => {
  it.each(FEED_CASES.map((c) => [`${c.feed}: ${c.name}`, c] as const))('%s', async (_label, c: FeedCase) => {
    const caseDir = await mkdtemp(path.join(work, 'feed-'));
    const mirror = path.join(caseDir, 'mirror');
    await cp(mirrors.dirs[c.feed], mirror, { recursive: true });
    const rel = (await filesUnder(mirror)).find((f) => c.file.test(f));
    expect(rel, `no file matching ${c.file} in the ${c.feed} mirror`).toBeDefined();
    const abs = path.join(mirror, rel!);
    await writeFile(abs, await c.derive(await readFile(abs), abs));
    const out = path.join(caseDir, 'out', 'bundle');
    const r = await run(['build', '--mirror', mirror, '--out', out, '--source', c.feed, ...optionArgs(c.feed)], { label: `corpus-${c.feed}-${c.name}` });
    const leftovers = (await readdir(path.dirname(out)).catch(() => [] as string[]));
    const errs = errorLines(r);
    // The file is named by its mirror-relative path (part/path) or, inside an archive, by the entry.
    const names = (c.names ?? new RegExp(path.basename(rel!).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).test(errs[0] ?? '');
    let ok = r.status === 3 && errs.length === 1 && /^error\[FEED_INVALID\]/.test(errs[0]) && c.message.test(errs[0]) && names && leftovers.length === 0;
    let detail = `exit ${r.status}: ${errs[0] ?? r.stdout.split('\n')[0]}${leftovers.length ? `; left behind: ${leftovers}` : ''}`;
    if (!ok && c.mayAcceptReplaced && r.status === 0) {
      // Accepted like claircore's decoder (U+FFFD): the bundle must hold only valid UTF-8.
      const v = await run(['verify', out], { label: `corpus-verify-${c.name}` });
      const csvs = (await filesUnder(out)).filter((f) => f.endsWith('.csv'));
      const texts = await Promise.all(csvs.map((f) => readFile(path.join(out, f))));
      const valid = texts.every((t) => Buffer.from(t.toString('utf8'), 'utf8').equals(t));
      ok = v.status === 0 && valid;
      detail = `accepted with invalid bytes replaced by U+FFFD, as claircore's decoder does; bundle verifies: ${v.status === 0}, valid UTF-8: ${valid}`;
      tally('bad input: feed files (build)', 'input', `${c.feed}: ${c.name}`, ok, detail, true);
    } else {
      tally('bad input: feed files (build)', 'input', `${c.feed}: ${c.name}`, ok, detail);
    }
    expect(ok, `${detail}\n${r.stderr.slice(-1200)}`).toBe(true);
  });
});

describe('bad bundles: load exits 3 (before connecting) or 5 (rolled back), names the file and record, Clair\'s tables unchanged', () => {
  let base = '';
  let loaded = '';
  beforeAll(async () => {
    // A bundle built from real feeds: vulnerabilities with aliases (osv), many rows (alpine), an
    // enrichment (clair.cvss) and a mapping document (rhel-mappings). The loaded database holds the
    // same feeds' older state (alpine only), so a bad bundle would change it.
    const mirror = path.join(work, 'bundle-mirror');
    for (const s of ['alpine', 'osv', 'cvss', 'rhel-mappings']) await cp(mirrors.dirs[s], mirror, { recursive: true });
    base = path.join(work, 'base-bundle');
    const b = await run(['build', '--mirror', mirror, '--out', base, ...['alpine', 'osv', 'cvss', 'rhel-mappings'].flatMap((s) => ['--source', s, ...optionArgs(s)])], { label: 'corpus-base' });
    expect(b.status, b.stderr).toBe(0);
    const older = path.join(work, 'older-bundle');
    expect((await run(['build', '--mirror', mirrors.dirs.alpine, '--out', older, '--source', 'alpine', ...optionArgs('alpine')], { label: 'corpus-older' })).status).toBe(0);
    const db = await cloneDb('tpl_clair20', 'tpl');
    loaded = db.name;
    dbs.push(db.name);
    const l = await run(['load', older, '--db', db.url], { label: 'corpus-template' });
    expect(l.status, l.stderr).toBe(0);
  }, 120_000);

  it('the base bundle itself loads (the cases below differ from it by one damage each)', async () => {
    const db = await cloneDb(loaded);
    dbs.push(db.name);
    const r = await run(['load', base, '--db', db.url], { label: 'corpus-base-load' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/outcome: loaded/);
  });

  // Each case twice: data files checked before connecting (small files, the default up to 64 MiB)
  // and while they are copied (as a bundle's big files are: CLAIR_BUNDLE_VERIFY_UP_FRONT_BYTES=0).
  const modes = [['', undefined], [' (checked while copying)', '0']] as const;
  it.each(BUNDLE_CASES.flatMap((c) => modes.map(([suffix, bytes]) => [c.name + suffix, c, bytes] as const)))('%s', async (name, c, bytes) => {
    const dir = await mkdtemp(path.join(work, 'bundle-'));
    const bundle = path.join(dir, 'bundle');
    await cp(base, bundle, { recursive: true });
    await c.mutate(bundle);
    const db = await cloneDb(loaded);
    dbs.push(db.name);
    const before = clairPart(await exactDump(db.url));
    const r = await run(['load', bundle, '--db', db.url], { label: `corpus-bundle-${name}`, env: { CLAIR_BUNDLE_VERIFY_UP_FRONT_BYTES: bytes } });
    const same = JSON.stringify(clairPart(await exactDump(db.url))) === JSON.stringify(before);
    const errs = errorLines(r);
    const ok = r.status === c.exit && errs.length === 1 && c.message.test(errs[0]) && same;
    const detail = `exit ${r.status}: ${errs[0] ?? r.stdout.split('\n')[0]}; tables ${same ? 'unchanged' : 'CHANGED'}`;
    tally('bad input: bundles (load)', 'input', name, ok, detail);
    expect(ok, `${detail}\n${r.stderr.slice(-1200)}`).toBe(true);
    await stat(bundle);
  });
});
