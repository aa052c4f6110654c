import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoreV2, scoreV3, scoreV4 } from '../../../../src/feeds/osv/cvss.js';
import { validCvssV2, validCvssV3, validCvssV4 } from '../../../../src/feeds/rhel-vex/cvss.js';

/** claircore's toolkit/types/cvss/testdata lists (expected values are claircore's). */
const DIR = path.resolve(import.meta.dirname, '../../../fixtures/osv/cvss');
function list(name: string): { vector: string; value: string; ok: boolean }[] {
  return readFileSync(path.join(DIR, name), 'utf8').split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [body, comment = ''] = l.split('#');
      const [vector, value = ''] = body.trim().split(/\s+/);
      return { vector, value, ok: comment.trim() === 'OK' };
    });
}

describe('CVSS scores as claircore computes them', () => {
  it.each([
    ['v2_score.list', scoreV2], ['v30_score.list', scoreV3], ['v31_score.list', scoreV3], ['v4_score.list', scoreV4],
  ] as const)('%s', (file, score) => {
    const cases = list(file);
    expect(cases.length).toBeGreaterThan(5);
    for (const c of cases) expect([c.vector, score(c.vector)]).toEqual([c.vector, Number(c.value)]);
  });
});

describe('CVSS validity as claircore parses it', () => {
  it.each([['v2_error.list', validCvssV2], ['v3_error.list', validCvssV3], ['v4_error.list', validCvssV4]] as const)('%s', (file, valid) => {
    for (const c of list(file)) expect([c.vector, valid(c.vector)]).toEqual([c.vector, c.ok]);
  });
  it.each([['v2_roundtrip.list', validCvssV2], ['v3_roundtrip.list', validCvssV3], ['v4_roundtrip.list', validCvssV4]] as const)('%s parses', (file, valid) => {
    for (const c of list(file)) expect([c.vector, valid(c.vector)]).toEqual([c.vector, true]);
  });
});
