import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { keepOutput } from './tally.js';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.cjs');

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Environment without the developer's database settings, plus `env`. */
export function cleanEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(base)) if (/^(PG|CLAIR_)/.test(k)) delete base[k];
  const out: NodeJS.ProcessEnv = { ...base };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

export interface Started {
  child: ChildProcess;
  done: Promise<Run>;
  /** stderr so far. */
  stderr(): string;
}

/**
 * Runs the built CLI; stdout and stderr are kept for the secret scan under `label`.
 * `onStderrLine` sees every stderr line as it arrives (phase detection).
 */
export function start(args: string[], opts: { env?: Record<string, string | undefined>; label?: string; cwd?: string; onStderrLine?: (line: string) => void } = {}): Started {
  const t = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env) });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => {
    const s = d.toString();
    stderr += s;
    if (opts.onStderrLine) {
      partial += s;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const line of parts) opts.onStderrLine(line);
    }
  });
  const done = new Promise<Run>((resolve) => child.on('close', (status, signal) => {
    keepOutput(`${opts.label ?? args[0]}-stdout`, stdout);
    keepOutput(`${opts.label ?? args[0]}-stderr`, stderr);
    resolve({ status, signal, stdout, stderr, ms: Date.now() - t });
  }));
  return { child, done, stderr: () => stderr };
}

export function run(args: string[], opts: { env?: Record<string, string | undefined>; label?: string; cwd?: string } = {}): Promise<Run> {
  return start(args, opts).done;
}

/** The `error[…]` line(s) of a failed run (the contract: exactly one, plus an optional hint). */
export function errorLines(r: Run): string[] {
  return r.stderr.split('\n').filter((l) => /^error(\[|:)/.test(l));
}
