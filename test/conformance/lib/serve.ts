import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface MirrorServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * `oracle serve --mirror <dir>`: the mirror over HTTP with the headers (ETag, Last-Modified)
 * claircore's updaters see inside `oracle load`. The first stdout line is the base URL.
 */
export async function serveMirror(bin: string, dir: string): Promise<MirrorServer> {
  const child = spawn(bin, ['serve', '--mirror', dir, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  };
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`oracle serve did not start within 30 s\n${stderr}`)), 30_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`oracle serve exited ${code}\n${stderr}`)); });
    lines.once('line', (line) => { clearTimeout(timer); resolve(line.trim()); });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { url, stop };
}
