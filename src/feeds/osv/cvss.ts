import aeCvss from 'ae-cvss-calculator';
import { validCvssV2, validCvssV3, validCvssV4 } from '../rhel-vex/cvss.js';
import type { NormalizedSeverity } from '../../model/vulnerability.js';

/**
 * CVSS scores as claircore's toolkit/types/cvss computes them, for OSV's qualitative mapping
 * (spec clair-updaters.md §2.5.3): v2 is the environmental score, v3 the temporal score (with
 * the environmental equations when environmental metrics are present), v4 the spec's score.
 * Validity is the same Ragel grammar VEX uses. v2 and v3 follow claircore's arithmetic step by
 * step (an explicit `X` in a modified v3 metric has no weight there, which makes the score NaN);
 * v4 uses ae-cvss-calculator, which reproduces every v4 score in claircore's own fixtures.
 */
const { Cvss4P0 } = aeCvss as unknown as { Cvss4P0: new (vector: string) => { calculateScores(): { overall: number } } };

/** Go math.Round: half away from zero. */
function goRound(x: number): number {
  if (Number.isNaN(x) || !Number.isFinite(x)) return x;
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

/** Go int(f) for float64 → int64 on amd64: NaN and out-of-range give the minimum int64. */
function goInt(f: number): bigint {
  if (Number.isNaN(f) || f >= 9223372036854775807 || f < -9223372036854775808) return -9223372036854775808n;
  return BigInt(Math.trunc(f));
}

// ---- v2 -----------------------------------------------------------------------------------

const V2_WEIGHTS: Record<string, Record<string, number>> = {
  AV: { L: 0.395, A: 0.646, N: 1.0 },
  AC: { H: 0.35, M: 0.61, L: 0.71 },
  Au: { M: 0.45, S: 0.56, N: 0.704 },
  C: { N: 0.0, P: 0.275, C: 0.660 },
  I: { N: 0.0, P: 0.275, C: 0.660 },
  A: { N: 0.0, P: 0.275, C: 0.660 },
  E: { U: 0.85, POC: 0.9, F: 0.95, H: 1.0, ND: 1.0 },
  RL: { OF: 0.87, TF: 0.9, W: 0.95, U: 1.0, ND: 1.0 },
  RC: { UC: 0.9, UR: 0.95, C: 1.0, ND: 1.0 },
  CDP: { N: 0, L: 0.1, LM: 0.3, MH: 0.4, H: 0.5, ND: 0 },
  TD: { N: 0, L: 0.25, M: 0.75, H: 1.0, ND: 1.0 },
  CR: { L: 0.5, M: 1.0, H: 1.51, ND: 1.0 },
  IR: { L: 0.5, M: 1.0, H: 1.51, ND: 1.0 },
  AR: { L: 0.5, M: 1.0, H: 1.51, ND: 1.0 },
};

function metrics(vector: string, skipPrefix: boolean): Map<string, string> {
  const parts = vector.split('/');
  const m = new Map<string, string>();
  for (const p of skipPrefix ? parts.slice(1) : parts) {
    const i = p.indexOf(':');
    m.set(p.slice(0, i), p.slice(i + 1));
  }
  return m;
}

export function scoreV2(vector: string): number {
  const m = metrics(vector, false);
  const w = (k: string) => V2_WEIGHTS[k][m.get(k) ?? 'ND'];
  const exploitability = 20 * w('AV') * w('AC') * w('Au');
  const impact = Math.min(10, 10.41 * (1 - (1 - w('C') * w('CR')) * (1 - w('I') * w('IR')) * (1 - w('A') * w('AR'))));
  const fImpact = impact === 0 ? 0 : 1.176;
  const base = goRound(((0.6 * impact) + (0.4 * exploitability) - 1.5) * fImpact * 10) / 10;
  const temporal = goRound(base * w('E') * w('RL') * w('RC') * 10) / 10;
  return goRound((temporal + (10 - temporal) * w('CDP')) * w('TD') * 10) / 10;
}

// ---- v3 -----------------------------------------------------------------------------------

const V3_WEIGHTS: Record<string, Record<string, number>> = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  PR: { N: 0.85, L: 0.62, H: 0.27 },
  UI: { N: 0.85, R: 0.62 },
  S: { U: 0, C: 0 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
  E: { X: 1, H: 1, F: 0.97, P: 0.94, U: 0.91 },
  RL: { X: 1, U: 1, W: 0.97, T: 0.96, O: 0.95 },
  RC: { X: 1, C: 1, R: 0.96, U: 0.92 },
  CR: { X: 1, H: 1.5, M: 1, L: 0.5 },
  IR: { X: 1, H: 1.5, M: 1, L: 0.5 },
  AR: { X: 1, H: 1.5, M: 1, L: 0.5 },
  MAV: { X: NaN, N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  MAC: { X: NaN, L: 0.77, H: 0.44 },
  MPR: { X: NaN, N: 0.85, L: 0.62, H: 0.27 },
  MUI: { X: NaN, N: 0.85, R: 0.62 },
  MS: { X: NaN, U: 0, C: 0 },
  MC: { X: NaN, H: 0.56, L: 0.22, N: 0 },
  MI: { X: NaN, H: 0.56, L: 0.22, N: 0 },
  MA: { X: NaN, H: 0.56, L: 0.22, N: 0 },
};
const V3_ENV = ['CR', 'IR', 'AR', 'MAV', 'MAC', 'MPR', 'MUI', 'MS', 'MC', 'MI', 'MA'];

function v30Roundup(f: number): number {
  return Math.ceil(f * 10) / 10;
}

function v31Roundup(f: number): number {
  const i = goInt(f * 100_000);
  if (i % 10_000n === 0n) return Number(i) / 100_000;
  return Number(i / 10_000n + 1n) / 10;
}

export function scoreV3(vector: string): number {
  const minor = vector[7];
  const m = metrics(vector, true);
  /** claircore getScore: an unset modified metric takes the base value; other unset ones are X. */
  const value = (k: string): string => m.get(k) ?? (k.startsWith('M') && k !== 'M' ? m.get(k.slice(1)) ?? 'X' : 'X');
  const vals: Record<string, number> = {};
  for (const k of Object.keys(V3_WEIGHTS)) vals[k] = V3_WEIGHTS[k][value(k)];
  if (value('S') === 'C') vals.PR = value('PR') === 'L' ? 0.68 : value('PR') === 'H' ? 0.5 : vals.PR;
  if (value('MS') === 'C') vals.MPR = value('MPR') === 'L' ? 0.68 : value('MPR') === 'H' ? 0.5 : vals.MPR;
  const env = V3_ENV.some((k) => m.has(k));
  let changeExp = 15;
  const round = minor === '0' ? v30Roundup : v31Roundup;
  if (minor === '1' && env) changeExp = 13;
  const iss = env
    ? Math.min(0.915, 1 - ((1 - vals.CR * vals.MC) * (1 - vals.IR * vals.MI) * (1 - vals.AR * vals.MA)))
    : 1 - ((1 - vals.C) * (1 - vals.I) * (1 - vals.A));
  let scope = value('S');
  let issScale = 1;
  if (env) {
    const mod = value('MS');
    if (mod !== 'X') scope = mod;
    if (minor === '1') issScale = 0.9731;
  }
  let impact: number;
  let scopeMod = 1;
  if (scope === 'U') {
    impact = 6.42 * iss;
  } else {
    scopeMod = 1.08;
    impact = 7.52 * (iss - 0.029) - (3.25 * Math.pow((iss * issScale) - 0.02, changeExp));
  }
  let exploitability = env ? vals.MAV * vals.MAC * vals.MPR * vals.MUI : vals.AV * vals.AC * vals.PR * vals.UI;
  exploitability *= 8.22;
  if (impact <= 0) return 0;
  const base = round(goMin(scopeMod * (impact + exploitability), 10));
  return round(base * vals.E * vals.RL * vals.RC);
}

/** Go math.Min: NaN if either is NaN. */
function goMin(a: number, b: number): number {
  return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
}

// ---- v4 -----------------------------------------------------------------------------------

export function scoreV4(vector: string): number {
  return new Cvss4P0(vector).calculateScores().overall;
}

// ---- qualitative ----------------------------------------------------------------------------

/** claircore QualitativeScore mapped to NormalizedSeverity (the same table for every version). */
export function qualitative(score: number): NormalizedSeverity {
  if (score === 0) return 'Negligible';
  if (score < 4) return 'Low';
  if (score < 7) return 'Medium';
  if (score < 9) return 'High';
  return 'Critical';
}

export type CvssType = 'CVSS_V2' | 'CVSS_V3' | 'CVSS_V4';

/** The normalized severity of a vector of the given type, or undefined when claircore cannot parse it. */
export function cvssSeverity(type: CvssType, vector: string): NormalizedSeverity | undefined {
  switch (type) {
    case 'CVSS_V2':
      return validCvssV2(vector) ? qualitative(scoreV2(vector)) : undefined;
    case 'CVSS_V3':
      return validCvssV3(vector) ? qualitative(scoreV3(vector)) : undefined;
    case 'CVSS_V4':
      return validCvssV4(vector) ? qualitative(scoreV4(vector)) : undefined;
  }
}
