/**
 * Formats an RFC 3339 UTC instant the way Go's `time.Time.Format("2006-01-02 15:04:05.999999999
 * -0700 MST")` prints a UTC time: fraction without trailing zeros (no dot when zero), `+0000 UTC`.
 * '' stands for Go's zero time.
 */
const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

export const ZERO_TIME_GO = '0001-01-01 00:00:00 +0000 UTC';
export const ZERO_TIME_SQL = '0001-01-01T00:00:00Z';

export function isUtcInstant(s: string): boolean {
  return s === '' || RFC3339_UTC.test(s);
}

export function goTimeString(issued: string): string {
  if (issued === '') return ZERO_TIME_GO;
  const m = RFC3339_UTC.exec(issued);
  if (!m) throw new RangeError(`not an RFC 3339 UTC time: ${JSON.stringify(issued)}`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const f = (frac ?? '').replace(/0+$/, '');
  return `${y}-${mo}-${d} ${h}:${mi}:${s}${f ? '.' + f : ''} +0000 UTC`;
}

/**
 * The `issued` column value. pgx stores microseconds, truncating nanoseconds, so the value
 * is cut to six fraction digits before PostgreSQL (which would round) sees it.
 */
export function issuedColumn(issued: string): string {
  if (issued === '') return ZERO_TIME_SQL;
  const m = RFC3339_UTC.exec(issued);
  if (!m) throw new RangeError(`not an RFC 3339 UTC time: ${JSON.stringify(issued)}`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const f = (frac ?? '').slice(0, 6).replace(/0+$/, '');
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${f ? '.' + f : ''}Z`;
}

/** Normalises any Date-parsable instant with an explicit zone to `…Z` form (ms precision). */
export function toUtcInstant(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  return date.toISOString().replace('.000Z', 'Z');
}
