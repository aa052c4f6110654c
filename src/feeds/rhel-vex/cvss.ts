/**
 * CVSS vector validity as claircore's Ragel parsers decide it (toolkit/types/cvss/*.rl;
 * spec clair-updaters.md §2.5.3). Only validity matters here: VEX stores the vector string
 * as Severity when it parses and drops the entry when it does not.
 * (Shared rule: OSV needs the same; move to src/model/ when a second feed uses it.)
 */

const V2_BASE = 'AV:[LAN]/AC:[HML]/Au:[MSN]/C:[NPC]/I:[NPC]/A:[NPC]';
const V2_TEMPORAL = '/E:(?:U|POC|F|H|ND)/RL:(?:OF|TF|W|U|ND)/RC:(?:UC|UR|C|ND)';
const V2_ENVIRONMENTAL = '/CDP:(?:N|L|LM|MH|H|ND)/TD:(?:N|L|M|H|ND)/CR:(?:L|M|H|ND)/IR:(?:L|M|H|ND)/AR:(?:L|M|H|ND)';
const V2 = new RegExp(`^${V2_BASE}(?:${V2_TEMPORAL})?(?:${V2_ENVIRONMENTAL})?$`);

/** v3 metrics in any order, each at most once; the first 8 are required. */
const V3_METRICS: Record<string, string> = {
  AV: 'NALP', AC: 'LH', PR: 'NLH', UI: 'NR', S: 'UC', C: 'HLN', I: 'HLN', A: 'HLN',
  E: 'XHFPU', RL: 'XUWTO', RC: 'XCRU', CR: 'XHML', IR: 'XHML', AR: 'XHML',
  MAV: 'XNALP', MAC: 'XLH', MPR: 'XNLH', MUI: 'XNR', MS: 'XUC', MC: 'XNLH', MI: 'XNLH', MA: 'XNLH',
};
const V3_REQUIRED = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'];

/** v4 metrics in the fixed order of the spec: the 11 base metrics required, the rest optional. */
const V4_BASE: ReadonlyArray<readonly [string, string]> = [
  ['AV', '[NALP]'], ['AC', '[LH]'], ['AT', '[NP]'], ['PR', '[NLH]'], ['UI', '[NPA]'],
  ['VC', '[HLN]'], ['VI', '[HLN]'], ['VA', '[HLN]'], ['SC', '[HLN]'], ['SI', '[HLN]'], ['SA', '[HLN]'],
];
const V4_OPTIONAL: ReadonlyArray<readonly [string, string]> = [
  ['E', '[XAPU]'],
  ['CR', '[XHML]'], ['IR', '[XHML]'], ['AR', '[XHML]'], ['MAV', '[XNALP]'], ['MAC', '[XLH]'], ['MAT', '[XNP]'],
  ['MPR', '[XNLH]'], ['MUI', '[XNPA]'], ['MVC', '[XHLN]'], ['MVI', '[XHLN]'], ['MVA', '[XHLN]'], ['MSC', '[XHLN]'],
  ['MSI', '[XHLNS]'], ['MSA', '[XHLNS]'],
  ['S', '[XNP]'], ['AU', '[XNY]'], ['R', '[XAUI]'], ['V', '[XDC]'], ['RE', '[XLMH]'], ['U', '(?:X|Clear|Green|Amber|Red)'],
];
const V4 = new RegExp(
  '^CVSS:4\\.0' + V4_BASE.map(([m, v]) => `/${m}:${v}`).join('') + V4_OPTIONAL.map(([m, v]) => `(?:/${m}:${v})?`).join('') + '$',
);

export function validCvssV2(vector: string): boolean {
  return V2.test(vector);
}

const v3Seen = new Map<string, boolean>();

/** Memoized: a feed repeats a few hundred vectors across all its documents. */
export function validCvssV3(vector: string): boolean {
  let ok = v3Seen.get(vector);
  if (ok === undefined) {
    if (v3Seen.size >= 10_000) v3Seen.clear();
    ok = parseV3(vector);
    v3Seen.set(vector, ok);
  }
  return ok;
}

function parseV3(vector: string): boolean {
  const m = /^CVSS:3\.[01]((?:\/[A-Z]+:[A-Z])+)$/.exec(vector);
  if (!m) return false;
  const seen = new Set<string>();
  for (const item of m[1].slice(1).split('/')) {
    const [metric, value] = item.split(':');
    const allowed = V3_METRICS[metric];
    if (allowed === undefined || !allowed.includes(value) || seen.has(metric)) return false;
    seen.add(metric);
  }
  return V3_REQUIRED.every((r) => seen.has(r));
}

export function validCvssV4(vector: string): boolean {
  return V4.test(vector);
}
