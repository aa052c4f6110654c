import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';

/** claircore versions the oracle is built for (test/oracle/build.sh), with our build target and schema fixture. */
export const VERSIONS = {
  'v1.5.48': { target: 'claircore-v1.5.48', schema: 16, fixture: ['matcher-base.sql'] },
  'v1.5.54': { target: 'claircore-v1.5.54', schema: 19, fixture: ['matcher-base.sql', 'matcher-upgrade-20.sql'] },
} as const;
export type OracleVersion = keyof typeof VERSIONS;

export interface OracleResult {
  stdout: string;
  stderr: string;
  code: number;
  seconds: number;
}

function tail(s: string, lines = 40): string {
  return s.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs `oracle-<version> <args>`; throws (with the stderr tail and, if given, a log file path) unless it exits 0. */
export async function oracle(version: OracleVersion, args: string[], opts: { logFile?: string } = {}): Promise<OracleResult> {
  const bin = inject('conformance').oracles[version];
  const started = Date.now();
  const res = await new Promise<OracleResult>((resolve) => {
    execFile(bin, args, { maxBuffer: 1 << 30, env: { ...process.env, ORACLE_DB: '' } }, (err, stdout, stderr) => {
      const exit = (err as { code?: unknown } | null)?.code;
      const code = !err ? 0 : typeof exit === 'number' ? exit : 1;
      resolve({ stdout, stderr, code, seconds: (Date.now() - started) / 1000 });
    });
  });
  if (opts.logFile) await writeFile(opts.logFile, `$ ${path.basename(bin)} ${redactArgs(args).join(' ')}\n# exit ${res.code}\n${res.stderr}`);
  if (res.code !== 0) {
    let errors = '';
    try {
      const j = JSON.parse(res.stdout) as { errors?: string[] };
      if (j.errors?.length) errors = `\nreported errors:\n  ${j.errors.join('\n  ')}`;
    } catch { /* not JSON */ }
    throw new Error(`oracle-${version} ${redactArgs(args).slice(0, 1).join(' ')} exited ${res.code}${errors}\n--- stderr (tail) ---\n${tail(res.stderr)}` +
      (opts.logFile ? `\n(full log: ${opts.logFile})` : ''));
  }
  return res;
}

/** Connection strings carry the throwaway cluster's password; keep it out of logs. */
function redactArgs(args: string[]): string[] {
  return args.map((a) => a.replace(/(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/g, '$1***@'));
}

export async function oracleJson<T>(version: OracleVersion, args: string[], opts: { logFile?: string } = {}): Promise<T> {
  return JSON.parse((await oracle(version, args, opts)).stdout) as T;
}
