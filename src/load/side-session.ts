import type pg from 'pg';
import { dropConnection } from './db.js';

/**
 * A second session of the loader, beside the one that holds the load's transaction: it runs tasks
 * one after the other (each in its own autocommit statements), while the load's session goes on.
 * The initial load copies its alias files there (src/load/load.ts): node is idle and one core is
 * free while the load's session checks and merges the rows it copied before.
 *
 * A failing task fails the session: the tasks after it do not run, and `onFailure` is told once
 * (the load then stops what it is doing). `done` waits for every queued task and throws that
 * failure, `settle` returns it; `stop` ends whatever runs (its connection is closed) and reports a
 * failure only if one happened before it was stopped.
 */
export class SideSession {
  private tail: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private stopped = false;

  constructor(readonly client: pg.Client, private readonly onFailure: (error: unknown) => void) {}

  /**
   * Runs `task` after the tasks queued before it, unless one of them failed. The promise settles
   * when the task is over (it never rejects: `through` tells whether it failed).
   */
  queue(task: () => Promise<unknown>): Promise<void> {
    this.tail = this.tail.then(async () => {
      if (this.failure || this.stopped) return;
      try {
        await task();
      } catch (error) {
        if (this.failure || this.stopped) return;
        this.failure = { error };
        this.onFailure(error);
      }
    });
    return this.tail;
  }

  /** Waits for a task `queue` returned; throws the session's first failure (up to then). */
  async through(task: Promise<void>): Promise<void> {
    await task;
    if (this.stopped) throw new Error('the second session was stopped');
    if (this.failure) throw this.failure.error;
  }

  /** `error` is this session's failure (thrown again by `done` or `through`). */
  isFailure(error: unknown): boolean {
    return this.failure !== undefined && this.failure.error === error;
  }

  /** A task failed (not one cut short by `stop`). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Waits for every queued task; throws the first failure. */
  async done(): Promise<void> {
    await this.through(this.tail);
  }

  /** Waits for every queued task; returns the first failure, if any. */
  async settle(): Promise<{ error: unknown } | undefined> {
    await this.tail;
    return this.failure;
  }

  /**
   * Stops the session: the running task fails as its connection closes, the queued ones never run.
   * Returns the failure of a task that failed before, if any.
   */
  async stop(): Promise<{ error: unknown } | undefined> {
    const before = this.failure;
    this.stopped = true;
    dropConnection(this.client);
    await this.tail;
    await this.client.end().catch(() => undefined);
    return before;
  }

  /** Closes the connection after `done` (the session's work is committed). */
  async end(): Promise<void> {
    this.stopped = true;
    await this.client.end().catch(() => undefined);
  }
}
