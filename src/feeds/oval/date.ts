/**
 * OVAL dates as goval-parser's `Date` decodes them (spec clair-updaters.md §2.5.5), with Go's
 * time.Parse rules for the layouts it tries. Results are RFC 3339 UTC instants (`…Z`), or ''
 * for Go's zero time. A string no layout accepts throws, which aborts claircore's parse.
 *
 * Zone abbreviations other than UTC/GMT parse (Go fabricates a zone with offset 0), giving the
 * same instant; claircore would print that abbreviation in the hash input, which our UTC-only
 * model cannot, so such an `issued` value hashes as UTC.
 */
export class OvalDateError extends Error {}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

interface Parts {
  y: number; mo: number; d: number; h: number; mi: number; s: number; frac: string; offsetMin: number;
}

function instant(p: Parts): string | undefined {
  if (p.mo < 1 || p.mo > 12 || p.d < 1 || p.d > daysIn(p.mo, p.y) || p.h > 23 || p.mi > 59 || p.s > 59) return undefined;
  const ms = Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - p.offsetMin * 60_000;
  const t = new Date(ms);
  if (p.y < 100) t.setUTCFullYear(p.y, p.mo - 1, p.d);
  const iso = t.toISOString().slice(0, 19);
  const frac = p.frac.replace(/0+$/, '');
  return `${iso}${frac ? '.' + frac : ''}Z`;
}

/** Go parseTimeZone (+ the UTC/GMT special cases) for the `MST` layout element: length consumed, or 0. */
function zoneLength(v: string): number {
  if (v.startsWith('UTC')) return 3;
  if (v.startsWith('ChST') || v.startsWith('MeST')) return 4;
  if (v.startsWith('GMT')) {
    const m = /^GMT(?:[+-]\d{1,2})?/.exec(v);
    return m![0].length;
  }
  let n = 0;
  while (n < 6 && n < v.length && v[n] >= 'A' && v[n] <= 'Z') n++;
  if (n === 3) return 3;
  if (n === 4 && (v[3] === 'T' || v.startsWith('WITA'))) return 4;
  if (n === 5 && v[4] === 'T') return 5;
  return 0;
}

/** The fraction Go accepts right after seconds even when the layout has none. */
const FRAC = '(?:[.,](\\d+))?';
const DATE = '(\\d{4})-(\\d{2})-(\\d{2})';
const CLOCK = `(\\d{1,2}):(\\d{2}):(\\d{2})${FRAC}`;

type Layout = (s: string) => string | undefined;

const num = (s: string | undefined) => Number(s ?? 0);

const LAYOUTS: Layout[] = [
  // 2006-01-02
  (s) => {
    const m = new RegExp(`^${DATE}$`).exec(s);
    return m ? instant({ y: num(m[1]), mo: num(m[2]), d: num(m[3]), h: 0, mi: 0, s: 0, frac: '', offsetMin: 0 }) : undefined;
  },
  // 2006-01-02 15:04:05 MST
  (s) => {
    const m = new RegExp(`^${DATE} ${CLOCK} (.*)$`).exec(s);
    if (!m) return undefined;
    const zone = m[8];
    const n = zoneLength(zone);
    if (n === 0 || n !== zone.length) return undefined;
    return instant({ y: num(m[1]), mo: num(m[2]), d: num(m[3]), h: num(m[4]), mi: num(m[5]), s: num(m[6]), frac: m[7] ?? '', offsetMin: gmtOffset(zone) });
  },
  // RFC1123: Mon, 02 Jan 2006 15:04:05 MST
  (s) => rfc1123(s, false),
  // RFC1123Z: Mon, 02 Jan 2006 15:04:05 -0700
  (s) => rfc1123(s, true),
  // RFC3339 / RFC3339Nano
  (s) => {
    const m = new RegExp(`^${DATE}T(\\d{1,2}):(\\d{2}):(\\d{2})${FRAC}(Z|[+-]\\d{2}:\\d{2})$`).exec(s);
    if (!m) return undefined;
    const z = m[8];
    const off = z === 'Z' ? 0 : (z[0] === '-' ? -1 : 1) * (num(z.slice(1, 3)) * 60 + num(z.slice(4)));
    if (z !== 'Z' && (num(z.slice(1, 3)) > 23 || num(z.slice(4)) > 59)) return undefined;
    return instant({ y: num(m[1]), mo: num(m[2]), d: num(m[3]), h: num(m[4]), mi: num(m[5]), s: num(m[6]), frac: m[7] ?? '', offsetMin: off });
  },
  // 2006-01-02 15:04:05
  (s) => {
    const m = new RegExp(`^${DATE} ${CLOCK}$`).exec(s);
    return m ? instant({ y: num(m[1]), mo: num(m[2]), d: num(m[3]), h: num(m[4]), mi: num(m[5]), s: num(m[6]), frac: m[7] ?? '', offsetMin: 0 }) : undefined;
  },
];

function gmtOffset(zone: string): number {
  const m = /^GMT([+-]\d{1,2})$/.exec(zone);
  return m ? Number(m[1]) * 60 : 0;
}

function rfc1123(s: string, numericZone: boolean): string | undefined {
  const m = /^([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))? (.*)$/.exec(s);
  if (!m || !DAYS.includes(m[1].toLowerCase())) return undefined;
  const mo = MONTHS.indexOf(m[3].toLowerCase()) + 1;
  if (mo === 0) return undefined;
  let offsetMin = 0;
  if (numericZone) {
    const z = /^([+-])(\d{2})(\d{2})$/.exec(m[9]);
    if (!z) return undefined;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  } else {
    const n = zoneLength(m[9]);
    if (n === 0 || n !== m[9].length) return undefined;
    offsetMin = gmtOffset(m[9]);
  }
  return instant({ y: num(m[4]), mo, d: num(m[2]), h: num(m[5]), mi: num(m[6]), s: num(m[7]), frac: m[8] ?? '', offsetMin });
}

/** Go time.Parse("2006-01-02", s), or undefined. */
function parseDateAttr(s: string): string | undefined {
  return LAYOUTS[0](s);
}

/**
 * goval-parser Date.UnmarshalXML: `attrs` are the element's attributes in document order
 * (local name → value), `text` its character data.
 */
export function parseOvalDate(attrs: ReadonlyArray<readonly [string, string]>, text: string): string {
  let date: string | 'empty' = '';
  for (const [name, value] of attrs) {
    if (name !== 'date') continue;
    if (value === '') {
      date = 'empty';
      break;
    }
    const t = parseDateAttr(value);
    if (t !== undefined) {
      date = t;
      break;
    }
    date = '';
  }
  if (date === 'empty' || text === 'unknown') return '';
  if (text === '' && date !== '') return date;
  for (const layout of LAYOUTS) {
    const t = layout(text);
    if (t !== undefined) return t;
  }
  throw new OvalDateError(`unable to decode string as datestamp: ${JSON.stringify(text)}`);
}
