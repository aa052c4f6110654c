import path from 'node:path';
import { expect } from 'vitest';
import { rhelVex } from '../../../../src/feeds/rhel-vex/index.js';
import type { FetchContext, ParseContext, VulnerabilityOutput } from '../../../../src/feeds/types.js';
import { silentLogger } from '../../../../src/log.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';

/** A parse context whose rhel-vex part directory is `partDir` (default `<mirror>/rhel-vex`). */
export function parseContext(mirror: string, partDir = path.join(mirror, 'rhel-vex'), options: Record<string, string> = {}): ParseContext {
  return { mirror, partDir: () => partDir, log: silentLogger, options };
}

/** A fetch context with `<mirror>/<part>` part directories. */
export function fetchContext(mirror: string, baseUrls: Record<string, string>): FetchContext {
  return { mirror, partDir: (part) => path.join(mirror, part), log: silentLogger, options: {}, baseUrls };
}

/** Every record of the single rhel-vex output. */
export async function snapshot(ctx: ParseContext): Promise<Vulnerability[]> {
  const outputs = [];
  for await (const o of rhelVex.parse(ctx)) outputs.push(o);
  expect(outputs).toHaveLength(1);
  const out = outputs[0] as VulnerabilityOutput;
  expect(out).toMatchObject({ type: 'vulnerability', updater: 'rhel-vex' });
  const rs: Vulnerability[] = [];
  for await (const r of out.records) rs.push(r);
  return rs;
}
