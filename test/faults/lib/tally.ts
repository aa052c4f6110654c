import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import type { Entry } from './report.js';

/**
 * What a test file contributes to the suite's figures (printed by global-setup.ts teardown):
 * tally entries, secrets to look for, and every output a run produced (all scanned for secrets).
 */
const instance = `${process.pid}-${randomBytes(3).toString('hex')}`;
const fileTag = () => instance;
let outputs = 0;

function dir(sub: string): string {
  const d = path.join(inject('faultsDir'), sub);
  mkdirSync(d, { recursive: true });
  return d;
}

export function tally(area: string, type: Entry['type'], name: string, ok: boolean, detail?: string, accepted?: boolean): void {
  appendFileSync(path.join(dir('tally'), `${fileTag()}.jsonl`), JSON.stringify({ area, type, name, ok, detail, accepted } satisfies Entry) + '\n');
}

/** A secret (password) that no output of the suite may contain. */
export function secret(s: string): string {
  appendFileSync(path.join(dir('secrets'), `${fileTag()}.txt`), JSON.stringify(s) + '\n');
  return s;
}

/** Keeps an output (stdout, stderr, a termination message, a table dump) for the secret scan. */
export function keepOutput(label: string, text: string): string {
  const name = `${fileTag()}-${String(++outputs).padStart(4, '0')}-${label.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)}.txt`;
  writeFileSync(path.join(dir('outputs'), name), text);
  return name;
}
