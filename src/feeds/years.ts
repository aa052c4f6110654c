import { ConfigError } from '../errors.js';

/** Every year from `first` to the current (local) year, as claircore's yearly updater sets list them. */
export function yearsSince(first: number, now = new Date()): number[] {
  const out: number[] = [];
  for (let y = first; y <= now.getFullYear(); y++) out.push(y);
  return out;
}

/**
 * The years an option such as `--option cvss-years=2019-2021,2024` names, ascending and without
 * repeats, or undefined when it is not given. `example` is the value the hints suggest.
 */
export function yearsOption(options: Readonly<Record<string, string>>, option: string, first: number, example: string): number[] | undefined {
  const raw = options[option];
  if (raw === undefined) return undefined;
  const years = new Set<number>();
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^(\d{4})(?:-(\d{4}))?$/.exec(item);
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] ? Number(m[2]) : from;
    if (!m || from < first || to < from) {
      throw new ConfigError(`${option}: ${JSON.stringify(item)} is not a year or range of years from ${first}`, { hint: `e.g. --option ${option}=${example} or ${option}=2015-2024` });
    }
    for (let y = from; y <= to; y++) years.add(y);
  }
  if (years.size === 0) throw new ConfigError(`${option}: no year named`, { hint: `e.g. --option ${option}=${example}` });
  return [...years].sort((a, b) => a - b);
}
