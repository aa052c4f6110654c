import { stringify } from 'csv-stringify/sync';
import type { Cell } from '../model/row.js';

/**
 * The one CSV encoder of the bundle (RFC 4180, '\n' line ends). Every string is quoted, so
 * COPY stores '' for an empty string; null is written unquoted-empty, which COPY reads as NULL.
 * Quoting every string also keeps a lone `\.` line from ending COPY's input.
 */
const OPTIONS = { quoted_string: true, record_delimiter: '\n', eof: true } as const;

export function csvLine(cells: readonly Cell[]): string {
  return stringify([cells as Cell[]], OPTIONS);
}

export function csvHeader(columns: readonly string[]): string {
  return stringify([columns as string[]], OPTIONS);
}
