import { expect } from 'vitest';
import { clairPart, cloneDb, dropDb, exactDump, logicalDump, query, waitForLoaderGone } from './db.js';
import { run, start, type Run } from './cli.js';
import { tally } from './tally.js';

/**
 * kill -9 of the loader at every phase of a load (crash consistency). The phases come from the
 * loader's own `phase` log lines (`--verbose --log-format json`); each one is killed at least
 * three times, at offsets drawn at random from [0, its calibrated duration + most of a pause]:
 * the test hook CLAIR_BUNDLE_TEST_PAUSE=<phase>:<ms> holds the loader for a moment after the phase,
 * so short phases are hit too ("during" = its statements were running, "after" = they had
 * finished, the next phase not begun). After each kill: Clair's tables are exactly as before
 * (or, once COMMIT went through, exactly what a clean load leaves), and the next load proceeds;
 * after the last kill of a phase a complete load must succeed and leave the clean-load state.
 */
export const PAUSE_MS = 150;
export const POINTS_PER_PHASE = 3;

/** Reproducible randomness: FAULTS_SEED, else a fresh seed that the test prints. */
export function rng(seed = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31))): { seed: number; next: () => number } {
  let a = seed >>> 0;
  return {
    seed,
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

export interface PhaseTiming {
  phase: string;
  ms: number;
}

interface LogLine {
  time?: string;
  msg?: string;
  phase?: string;
  /** 'second': a phase of the loader's second session, which runs beside the others. */
  session?: string;
}

function logLines(stderr: string): LogLine[] {
  return stderr.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as LogLine];
    } catch {
      return [];
    }
  });
}

/**
 * The phases of a complete load in order, each with its duration: until the next phase of the same
 * session (the loader's second one runs beside the first, and says when it is done), the last one
 * until exit.
 */
export function phaseTimings(r: Run, exitTime: number): PhaseTiming[] {
  const lines = logLines(r.stderr).filter((l) => (l.msg === 'phase' || l.msg === 'second session done') && l.time);
  return lines.flatMap((l, i) => {
    if (l.msg !== 'phase') return [];
    const next = lines.slice(i + 1).find((n) => n.session === l.session);
    return [{ phase: l.phase!, ms: Math.max(1, (next ? Date.parse(next.time!) : exitTime) - Date.parse(l.time!)) }];
  });
}

const LOAD_ARGS = (bundle: string, url: string) => ['--verbose', '--log-format', 'json', 'load', bundle, '--db', url];

export async function calibrate(bundle: string, url: string): Promise<PhaseTiming[]> {
  const s = start(LOAD_ARGS(bundle, url), { label: 'calibrate' });
  const r = await s.done;
  expect(r.status, r.stderr).toBe(0);
  return phaseTimings(r, Date.now());
}

interface KillResult {
  /** The phase the loader was in when it died, and whether that phase had finished (paused). */
  phase: string;
  after: boolean;
  reached: boolean;
  run: Run;
}

async function killAt(bundle: string, url: string, phase: string, offsetMs: number): Promise<KillResult> {
  let timer: NodeJS.Timeout | undefined;
  let reached = false;
  const s = start(LOAD_ARGS(bundle, url), {
    label: `kill-${phase}`,
    env: { CLAIR_BUNDLE_TEST_PAUSE: `${phase}:${PAUSE_MS}` },
    onStderrLine: (line) => {
      if (reached || !line.includes('"phase"')) return;
      try {
        const l = JSON.parse(line) as LogLine;
        if (l.msg === 'phase' && l.phase === phase) {
          reached = true;
          timer = setTimeout(() => s.child.kill('SIGKILL'), offsetMs);
        }
      } catch {
        /* not a log line */
      }
    },
  });
  const r = await s.done;
  clearTimeout(timer);
  // Everything the loader wrote before it died is in the pipe (stderr writes are synchronous).
  const lines = logLines(r.stderr);
  // The phase it died in: the last one begun by the session the target phase belongs to.
  const session = lines.find((l) => l.msg === 'phase' && l.phase === phase)?.session;
  const phases = lines.filter((l) => l.msg === 'phase' && l.session === session);
  const last = phases.at(-1)?.phase ?? '(none)';
  const after = lines.some((l) => l.msg === 'test pause' && l.phase === last);
  return { phase: last, after, reached, run: r };
}

export interface Scenario {
  area: string;
  /** Database to clone for each phase (a schema template, or one with the previous bundle loaded). */
  template: string;
  bundle: string;
  digest: string;
  /** Logical dump of a clean load of `bundle` onto `template`. */
  clean: Record<string, string>;
  phases: PhaseTiming[];
  random: () => number;
}

async function committed(url: string, digest: string): Promise<boolean> {
  const [t] = await query<{ e: boolean }>(url, "SELECT to_regclass('clair_bundle.load_history') IS NOT NULL AS e");
  if (!t.e) return false;
  const [r] = await query<{ n: number }>(url, "SELECT count(*)::int AS n FROM clair_bundle.load_history WHERE bundle_digest = $1 AND outcome = 'loaded'", [digest]);
  return r.n > 0;
}

/**
 * Kills the loader POINTS_PER_PHASE times in every phase, in phase order, on one database (a fresh
 * clone only after a kill that let COMMIT through). Each kill is settled by the run after it: the
 * next kill run must get at least as far (it reaches the next target phase) and the complete load
 * at the end must succeed and leave exactly what a clean load leaves. Returns a line per kill.
 */
export async function crashAll(sc: Scenario): Promise<{ notes: string[]; landed: Record<string, number> }> {
  const notes: string[] = [];
  const landed: Record<string, number> = {};
  let db = await cloneDb(sc.template);
  let before = await exactDump(db.url);
  const dbs = [db.name];
  let pending: { name: string; ok: boolean; detail: string }[] = [];
  const settle = (nextOk: boolean, why: string) => {
    for (const p of pending) tally(sc.area, 'fault', p.name, p.ok && nextOk, p.ok && !nextOk ? `next load: ${why}` : p.detail);
    pending = [];
  };
  try {
    for (const target of sc.phases) {
      // At least POINTS_PER_PHASE kills must land in the phase; one that overshoots (the phase ran
      // shorter than calibrated) still counts as a fault, and another is tried (at most 3 more).
      landed[target.phase] = 0;
      for (let tries = 0; landed[target.phase] < POINTS_PER_PHASE && tries < POINTS_PER_PHASE + 3; tries++) {
        const offset = Math.floor(sc.random() * (target.ms + PAUSE_MS * 0.9));
        const r = await killAt(sc.bundle, db.url, target.phase, offset);
        if (r.phase === target.phase) landed[target.phase]++;
        // This run was "the next load" after the previous kill: it must have got at least this far.
        settle(r.reached || r.run.status === 0, `did not reach ${target.phase} (exit ${r.run.status}): ${r.run.stderr.slice(-300)}`);
        await waitForLoaderGone(db.name);
        const after = await exactDump(db.url);
        const done = await committed(db.url, sc.digest);
        const where = `${r.phase}${r.after ? ' (finished, paused)' : ''}`;
        let ok: boolean;
        let detail: string;
        if (!r.reached && r.run.status !== null) {
          ok = false;
          detail = `phase ${target.phase} never started (exit ${r.run.status}): ${r.run.stderr.slice(-300)}`;
        } else if (done) {
          // Only a kill at or after COMMIT may leave the new data, and then exactly a clean load's.
          const logical = await logicalDump(db.url);
          ok = r.phase === 'commit' && JSON.stringify(logical) === JSON.stringify(sc.clean);
          detail = `committed (killed in ${where}); logical dump ${ok ? 'equals' : 'differs from'} a clean load`;
        } else {
          const same = JSON.stringify(clairPart(after)) === JSON.stringify(clairPart(before));
          const oursSame = Object.keys(before).filter((t) => t.startsWith('clair_bundle.')).every((t) => before[t] === after[t]);
          ok = !(r.phase === 'commit' && r.after) && same && oursSame;
          detail = `killed in ${where}; Clair's tables ${same ? 'unchanged' : 'CHANGED'}${oursSame ? '' : ', our tables CHANGED'}`;
        }
        notes.push(`${target.phase} +${offset}ms → ${detail}`);
        pending.push({ name: `kill -9 at ${target.phase} +${offset}ms (${where})`, ok, detail });
        if (done) {
          // The next load has nothing to do on this database: it must say so.
          const again = await run(['load', sc.bundle, '--db', db.url], { label: 'after-commit' });
          settle(again.status === 0 && /outcome: unchanged/.test(again.stdout), `exit ${again.status}`);
          db = await cloneDb(sc.template);
          dbs.push(db.name);
          before = await exactDump(db.url);
        }
      }
    }
    const final = await run(['load', sc.bundle, '--db', db.url], { label: 'final' });
    const logical = final.status === 0 ? await logicalDump(db.url) : {};
    const clean = JSON.stringify(logical) === JSON.stringify(sc.clean);
    const finalOk = final.status === 0 && /outcome: loaded/.test(final.stdout) && clean;
    settle(finalOk, `exit ${final.status}, ${final.stderr.slice(-300)}; clean-load state ${clean ? 'reached' : 'NOT reached'}`);
    notes.push(`final load after the last kill: exit ${final.status}${finalOk ? ', clean-load state' : ' NOT OK'}`);
  } finally {
    for (const name of dbs) await dropDb(name);
  }
  return { notes, landed };
}

/** Says which seed repeats the kill offsets, and the phases to kill in with their calibrated times. */
export function logPhases(sc: Scenario, seed: number): void {
  console.log(`seed ${seed} (FAULTS_SEED=${seed} repeats the kill offsets); phases (ms):`, sc.phases.map((p) => `${p.phase} ${p.ms}`).join(', '));
}

/**
 * crashAll, with its notes logged: at least POINTS_PER_PHASE kills landed in every phase, and no
 * kill left Clair's tables changed or kept the next load from succeeding.
 */
export async function expectCrashesSurvived(sc: Scenario): Promise<void> {
  const { notes, landed } = await crashAll(sc);
  console.log(notes.join('\n'));
  console.log('kills that landed in each phase:', JSON.stringify(landed));
  expect(Object.entries(landed).filter(([, n]) => n < POINTS_PER_PHASE)).toEqual([]);
  const failures = notes.filter((n) => /CHANGED|NOT OK|differs|never started/.test(n));
  expect(failures).toEqual([]);
}
