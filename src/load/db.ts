import pg from 'pg';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { AppError, DatabaseError, LockBusyError, RefusedError } from '../errors.js';
import { bindVariables, loadSql } from '../sql.js';

/** A failing statement file, with the line PostgreSQL pointed at. */
export class StatementError extends Error {
  constructor(readonly file: string, readonly pgError: pg.DatabaseError | Error, readonly line?: number) {
    super(`${file}${line ? ` line ${line}` : ''}: ${pgError.message}`, { cause: pgError });
  }
  get sqlState(): string | undefined {
    return (this.pgError as pg.DatabaseError).code;
  }
}

function lineOf(sql: string, position: string | undefined): number | undefined {
  const pos = Number(position);
  return pos > 0 ? sql.slice(0, pos - 1).split('\n').length : undefined;
}

/** Runs `sql/load/<name>.sql` (psql variables bound as parameters) and returns its last result's rows. */
export async function runSql<R extends pg.QueryResultRow = pg.QueryResultRow>(
  client: pg.ClientBase, name: string, variables: Record<string, unknown> = {},
): Promise<R[]> {
  const sql = loadSql(name);
  const bound = bindVariables(sql, variables);
  try {
    const res = bound.values.length ? await client.query(bound.text, bound.values) : await client.query(bound.text);
    const last = Array.isArray(res) ? res[res.length - 1] : res;
    return (last?.rows ?? []) as R[];
  } catch (err) {
    throw new StatementError(`sql/load/${name}.sql`, err as Error, lineOf(bound.text, (err as pg.DatabaseError).position));
  }
}

/** Like runSql, for one statement whose rows come back as arrays (less memory for many rows). */
export async function runSqlArrays(client: pg.ClientBase, name: string, variables: Record<string, unknown> = {}): Promise<unknown[][]> {
  const bound = bindVariables(loadSql(name), variables);
  try {
    return (await client.query({ text: bound.text, values: bound.values, rowMode: 'array' })).rows as unknown[][];
  } catch (err) {
    throw new StatementError(`sql/load/${name}.sql`, err as Error, lineOf(bound.text, (err as pg.DatabaseError).position));
  }
}

/**
 * COPY a file into a table through pg-copy-streams; returns the row count. A rejected row fails
 * with the bundle file and its line (from PostgreSQL's "COPY …, line N" context). `source` replaces
 * reading `file` (e.g. a stream that checks the file while it flows: its error aborts the COPY).
 */
export async function copyFile(client: pg.ClientBase, statement: string, file: string, name = file, source?: NodeJS.ReadableStream): Promise<number> {
  const stream = client.query(copyFrom(statement));
  try {
    await pipeline(source ?? createReadStream(file), stream);
  } catch (err) {
    if (err instanceof AppError) throw err; // e.g. the checked source found the file damaged
    const where = (err as pg.DatabaseError).where;
    const line = where ? Number(/COPY [^,]+, line (\d+)/.exec(where)?.[1]) || undefined : undefined; // not "JSON data, line 1"
    if ((err as pg.DatabaseError).code) throw new StatementError(name, err as pg.DatabaseError, line);
    throw err;
  }
  return stream.rowCount ?? 0;
}

/**
 * Closes a client's socket at once: its pending round trip fails (a stalled network, a session
 * that must stop), without waiting for the server as `end()` does.
 */
export function dropConnection(client: pg.Client): void {
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
}

/** node-postgres's errors for a connection that went away. */
const CONNECTION_LOST = /EPIPE|ECONNRESET|Connection terminated|not queryable/i;

/** The error says the connection went away (no answer of the server's: it carries no SQLSTATE). */
export function connectionLost(err: unknown): boolean {
  return !sqlStateOf(err) && CONNECTION_LOST.test(String((err as Error)?.message));
}

/** The SQLSTATE of a database error, looking through wrappers (StatementError, causes). */
export function sqlStateOf(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; pgError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
    e = (e.pgError ?? e.cause) as typeof e;
  }
  return undefined;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'ENETUNREACH']);

/** Classifies errors from connecting, checking the schema or locking (exit 4 / 6 / 7). */
export function classifyDbError(err: unknown, target: string): Error {
  const e = err as pg.DatabaseError & { code?: string; errno?: string };
  const code = sqlStateOf(err) ?? e.code ?? '';
  const msg = (err as Error).message ?? String(err);
  if (code === 'CB004') return new DatabaseError(msg, { hint: (e as pg.DatabaseError).hint, cause: err });
  if (code === 'CB007') return new RefusedError(msg, { cause: err });
  if (code === '55P03') return new LockBusyError('another load holds the lock (lock timeout reached)', { hint: 'wait for it to finish, or raise --lock-timeout', cause: err });
  if (code === '28P01' || code === '28000') return new DatabaseError(`cannot log in to ${target}: ${msg}`, { cause: err, hint: 'check the user and password' });
  if (code === '3D000') return new DatabaseError(`${target}: ${msg}`, { cause: err });
  if (code === '42501') return new DatabaseError(`permission denied on ${target}: ${msg}`, { cause: err, hint: 'see "Least privilege" in the README for the grants the loader needs' });
  if (CONNECTION_CODES.has(code) || /connect|terminat|timeout/i.test(msg) && !code.match(/^[0-9A-Z]{5}$/)) {
    return new DatabaseError(`cannot reach database ${target}: ${msg}`, { cause: err });
  }
  return err as Error;
}
