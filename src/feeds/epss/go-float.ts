/**
 * Go's strconv.ParseFloat(s, 64): the number, or undefined where Go returns an error (invalid
 * syntax, or a finite literal out of float64 range). Accepts what Go accepts: an optional sign,
 * `inf`/`infinity`/`nan` in any case (`nan` without a sign), decimal literals with optional
 * fraction and exponent, hexadecimal literals `0x…p±n` (the binary exponent is required), and
 * `_` between digits. Results are correctly rounded, as Go's are.
 */
export function goParseFloat(s: string): number | undefined {
  if (s.length === 0) return undefined;
  const special = parseSpecial(s);
  if (special !== null) return special;
  let i = 0;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    i++;
  }
  let hex = false;
  if (i + 2 < s.length && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) {
    hex = true;
    i += 2;
  }
  let digits = '';
  let fracDigits = 0;
  let sawDot = false;
  let sawDigits = false;
  let underscores = false;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '_') {
      underscores = true;
      continue;
    }
    if (c === '.') {
      if (sawDot) break;
      sawDot = true;
      continue;
    }
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      sawDigits = true;
      digits += c;
      if (sawDot) fracDigits++;
      continue;
    }
    break;
  }
  if (!sawDigits) return undefined;
  let exp = 0;
  const expChar = hex ? 'p' : 'e';
  if (i < s.length && s[i].toLowerCase() === expChar) {
    i++;
    if (i >= s.length) return undefined;
    let esign = 1;
    if (s[i] === '+') i++;
    else if (s[i] === '-') {
      i++;
      esign = -1;
    }
    if (i >= s.length || s[i] < '0' || s[i] > '9') return undefined;
    let e = 0;
    for (; i < s.length && ((s[i] >= '0' && s[i] <= '9') || s[i] === '_'); i++) {
      if (s[i] === '_') {
        underscores = true;
        continue;
      }
      if (e < 10000) e = e * 10 + (s.charCodeAt(i) - 48);
    }
    exp = e * esign;
  } else if (hex) {
    return undefined;
  }
  if (i !== s.length) return undefined;
  if (underscores && !underscoreOK(s)) return undefined;
  let v: number;
  if (hex) {
    v = hexValue(BigInt('0x' + digits), exp - 4 * fracDigits);
  } else {
    const frac = sawDot ? digits.slice(digits.length - fracDigits) : '';
    const int = digits.slice(0, digits.length - fracDigits) || '0';
    v = Number(`${int}.${frac || '0'}e${exp}`);
  }
  if (!Number.isFinite(v)) return undefined;
  return neg ? -v : v;
}

/** Go's special(): ±inf, ±infinity, nan; null when s is not one of them. */
function parseSpecial(s: string): number | null {
  let rest = s;
  let sign = 1;
  if (rest[0] === '+' || rest[0] === '-') {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
    const l = rest.toLowerCase();
    return l === 'inf' || l === 'infinity' ? sign * Infinity : null;
  }
  const l = rest.toLowerCase();
  if (l === 'inf' || l === 'infinity') return Infinity;
  if (l === 'nan') return NaN;
  return null;
}

/** Go's underscoreOK: `_` only between digits, or between a base prefix and a digit. */
function underscoreOK(str: string): boolean {
  let s = str;
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1].toLowerCase())) {
    i = 2;
    saw = '0';
    hex = s[1].toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** m × 2^e rounded half-to-even to a float64 (Infinity when it overflows). */
function hexValue(m: bigint, e: number): number {
  if (m === 0n) return 0;
  const bits = m.toString(2).length;
  const top = bits - 1 + e;
  const lsb = Math.max(top - 52, -1074);
  const shift = lsb - e;
  let q = m;
  let qe = e;
  if (shift > 0) {
    const s = BigInt(shift);
    q = m >> s;
    const rem = m & ((1n << s) - 1n);
    const half = 1n << (s - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    qe = lsb;
  }
  if (qe > 1023 + 10) return Infinity;
  // q has at most 53 bits: exact as a Number; scale by 2^qe in two exact steps.
  const a = Math.trunc(qe / 2);
  return Number(q) * 2 ** a * 2 ** (qe - a);
}
