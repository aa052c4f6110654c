import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A directory of a load's temporary files, `<prefix><host name>-<process id>-<random>` in the
 * temporary directory. The directories with that prefix that loads on this host left there when
 * they were killed (kill -9: their process is gone) are removed first. Throws when the temporary
 * directory cannot be written.
 */
export function makeTempDir(prefix: string): string {
  removeLeftovers(os.tmpdir(), prefix);
  return mkdtempSync(path.join(os.tmpdir(), `${prefix}${os.hostname()}-${process.pid}-`));
}

/**
 * Removes the directories with `prefix` in `tmp` of loads on this host whose process is gone (a
 * container is a host of its own: its loads' processes are the only ones it can see). Those of
 * other hosts, of live processes and of other users stay.
 */
function removeLeftovers(tmp: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return;
  }
  const host = `${prefix}${os.hostname()}-`;
  for (const name of names) {
    const pid = name.startsWith(host) ? /^(\d+)-[^-]+$/.exec(name.slice(host.length))?.[1] : undefined;
    if (pid === undefined || alive(Number(pid))) continue;
    try {
      rmSync(path.join(tmp, name), { recursive: true, force: true });
    } catch {
      // (another user's)
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
