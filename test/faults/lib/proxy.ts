import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 between the loader and PostgreSQL that injects connection faults:
 * drop every connection (both sides closed), stall them (nothing forwarded any more, sockets
 * kept open, as a hung middlebox or a partition with ACKs), refuse new connections, and rules
 * that watch the client's bytes (e.g. drop the connection the moment a COMMIT has gone through).
 */
export interface Pair {
  readonly id: number;
  readonly client: Socket;
  readonly server: Socket;
  /** Bytes client → server so far, and the recent text (for matching statements). */
  up: number;
  down: number;
  recent: string;
  stalled: boolean;
  /** Server → client data is swallowed (the client never sees the answer). */
  muted: boolean;
}

/**
 * Decides, per chunk the client sends, what happens to its connection: forward it, drop the
 * connection (before or just after forwarding), stall it (before or after forwarding: the
 * server's answer is withheld), or forward it and cut the client off while the server answers.
 */
export type Rule = (pair: Pair, chunk: Buffer) => 'forward' | 'drop' | 'stall' | 'stall-after-forward' | 'drop-after-forward' | 'mute-and-cut';

export interface Proxy {
  readonly port: number;
  /** The same URL with host and port replaced by the proxy's. */
  url(target: string): string;
  readonly pairs: Pair[];
  /** Closes both sides of every open connection. */
  dropAll(): void;
  /** Stops forwarding on every open connection. */
  stallAll(): void;
  /** Refuse new connections: accept and close at once (true), or pass (false). */
  refuse(on: boolean): void;
  rule: Rule | undefined;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<Proxy> {
  const pairs: Pair[] = [];
  let refusing = false;
  let nextId = 1;
  const state: { rule: Rule | undefined } = { rule: undefined };

  const kill = (p: Pair) => {
    p.client.destroy();
    p.server.destroy();
  };

  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    upstream.on('error', () => undefined);
    const pair: Pair = { id: nextId++, client, server: upstream, up: 0, down: 0, recent: '', stalled: false, muted: false };
    pairs.push(pair);
    client.on('data', (chunk: Buffer) => {
      if (pair.stalled) return;
      pair.up += chunk.length;
      pair.recent = (pair.recent + chunk.toString('latin1')).slice(-4096);
      const verdict = state.rule?.(pair, chunk) ?? 'forward';
      switch (verdict) {
        case 'drop':
          kill(pair);
          return;
        case 'stall':
          stall(pair);
          return;
        case 'stall-after-forward':
          // The server gets the chunk and works on it; its answer never comes back.
          upstream.write(chunk, () => stall(pair));
          return;
        case 'drop-after-forward':
          upstream.write(chunk, () => setTimeout(() => kill(pair), 20));
          return;
        case 'mute-and-cut':
          // The server gets the chunk and answers; the client never sees the answer and loses
          // its connection; the server side is closed a moment later.
          pair.muted = true;
          upstream.write(chunk);
          client.destroy();
          setTimeout(() => upstream.destroy(), 500);
          return;
        default:
          if (!upstream.write(chunk)) {
            client.pause();
            upstream.once('drain', () => !pair.stalled && client.resume());
          }
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pair.stalled || pair.muted) return;
      pair.down += chunk.length;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => !pair.stalled && upstream.resume());
      }
    });
    client.on('close', () => !pair.stalled && upstream.end());
    upstream.on('close', () => !pair.stalled && !pair.muted && client.end());
  });

  function stall(p: Pair): void {
    p.stalled = true;
    // Stop reading: the kernel buffers fill up and both peers see a silent, open connection.
    p.client.pause();
    p.server.pause();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url(target: string) {
      const u = new URL(target);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    pairs,
    dropAll: () => pairs.forEach(kill),
    stallAll: () => pairs.forEach(stall),
    refuse: (on) => (refusing = on),
    get rule() {
      return state.rule;
    },
    set rule(r: Rule | undefined) {
      state.rule = r;
    },
    close: () => new Promise<void>((resolve) => {
      pairs.forEach(kill);
      server.close(() => resolve());
    }),
  };
}
