/**
 * Runs one step as a child process and samples memory while it runs: the child's VmHWM (peak
 * RSS) from /proc/<pid>/status, and — found in pg_stat_activity by application_name — the
 * PostgreSQL backend(s) serving it: VmHWM (includes the shared buffers the backend touched) and
 * the peak of RssAnon (its private memory: work_mem, sort/hash state, caches).
 */
import { spawn } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import pg from 'pg';

export interface ProcMem {
  /** kB */
  vmHWM: number;
  /** kB, highest sampled */
  rssAnon: number;
}

export function procStatus(pid: number): ProcMem | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
    return { vmHWM: kb('VmHWM'), rssAnon: kb('RssAnon') };
  } catch {
    return null;
  }
}

export interface StepRun {
  seconds: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** kB */
  childPeakRss: number;
  /** kB; max over the matching backends */
  backendPeakRss: number;
  backendPeakAnon: number;
  backends: number;
}

export async function runMeasured(
  command: string, args: string[],
  opts: {
    monitorDb: string; applicationNames: string[]; sampleMs?: number; env?: NodeJS.ProcessEnv;
    /** Stop the child (and fail) when the file system holding this path has less free space: a shared machine must not fill up. */
    disk?: { path: string; minFreeBytes: number };
  },
): Promise<StepRun> {
  const monitor = new pg.Client({ connectionString: opts.monitorDb, application_name: 'clair-bundle-bench-monitor' });
  await monitor.connect();
  const backends = new Map<number, ProcMem>();
  let childPeak = 0;
  const started = Date.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  let running = true;
  let finishedAt = 0;
  void exited.then(() => {
    finishedAt = Date.now();
    running = false;
  });
  const sampleMs = opts.sampleMs ?? 50;
  let diskAbort = '';
  while (running) {
    if (opts.disk && !diskAbort) {
      const fs = statfsSync(opts.disk.path);
      const free = fs.bavail * fs.bsize;
      if (free < opts.disk.minFreeBytes) {
        diskAbort = `stopped: only ${(free / 2 ** 30).toFixed(1)} GB left free on the disk of ${opts.disk.path}`;
        child.kill('SIGTERM');
      }
    }
    const m = child.pid ? procStatus(child.pid) : null;
    if (m) childPeak = Math.max(childPeak, m.vmHWM);
    {
      const res = await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = ANY($1)', [opts.applicationNames]).catch(() => ({ rows: [] as { pid: number }[] }));
      for (const r of res.rows) if (!backends.has(r.pid)) backends.set(r.pid, { vmHWM: 0, rssAnon: 0 });
    }
    for (const [pid, peak] of backends) {
      const b = procStatus(pid);
      if (b) backends.set(pid, { vmHWM: Math.max(peak.vmHWM, b.vmHWM), rssAnon: Math.max(peak.rssAnon, b.rssAnon) });
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, sampleMs))]);
  }
  const exitCode = await exited;
  await monitor.end();
  if (diskAbort) throw new Error(diskAbort);
  const peaks = [...backends.values()];
  return {
    seconds: (finishedAt - started) / 1000, exitCode, stdout, stderr, childPeakRss: childPeak,
    backendPeakRss: Math.max(0, ...peaks.map((p) => p.vmHWM)), backendPeakAnon: Math.max(0, ...peaks.map((p) => p.rssAnon)),
    backends: backends.size,
  };
}
