import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { writeBundle } from '../../src/bundle/write.js';
import { silentLogger } from '../../src/log.js';
import { loadBundle } from '../../src/load/load.js';
import { createMappingServer } from '../../src/serve/mappings.js';
import { createClairDb, query } from '../helpers/db.js';
import { ROOT } from '../helpers/cli.js';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';

const REPO2CPE = path.resolve(ROOT, '../shared/fixtures/feeds/rhel-metrics/data/metrics/repository-to-cpe.json');

async function bundleWithMapping(created: string): Promise<string> {
  const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-map-')), 'bundle');
  async function* outputs() {
    yield { type: 'mapping' as const, name: 'repository-to-cpe.json', path: REPO2CPE, upstreamDate: '2025-01-01T00:00:00Z', source: 'rhel-mappings' };
  }
  await writeBundle({ out, created, target: 'claircore-v1.5.54', sources: [], outputs: outputs(), log: silentLogger });
  return out;
}

describe('Red Hat mapping documents', () => {
  it('are loaded in the load transaction, queryable per repository, and served with 304 and gzip', async () => {
    const url = await createClairDb(20);
    const bundle = await bundleWithMapping('2026-01-01T00:00:00Z');
    const summary = await loadBundle({ bundle, connection: { connectionString: url }, target: 't', log: silentLogger });
    expect(summary.outcome).toBe('loaded');
    const upstream = JSON.parse(await readFile(REPO2CPE, 'utf8'));
    const [row] = await query(url, "SELECT cpes FROM clair_bundle.repository_cpe WHERE repository = '3scale-amp-2-for-rhel-8-ppc64le-rpms'");
    expect(row.cpes).toEqual(upstream.data['3scale-amp-2-for-rhel-8-ppc64le-rpms'].cpes);
    const [count] = await query(url, 'SELECT count(*)::int AS n FROM clair_bundle.repository_cpe');
    expect(count.n).toBe(Object.keys(upstream.data).length);
    // Loading it again changes nothing.
    expect((await loadBundle({ bundle, connection: { connectionString: url }, target: 't', log: silentLogger })).outcome).toBe('unchanged');

    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const server = createMappingServer(pool, silentLogger);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const res = await fetch(`${base}/repository-to-cpe.json`, { headers: { 'accept-encoding': 'identity' } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(upstream);
      const etag = res.headers.get('etag')!;
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
      const again = await fetch(`${base}/repository-to-cpe.json`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      const since = await fetch(`${base}/repository-to-cpe.json`, { headers: { 'if-modified-since': res.headers.get('last-modified')! } });
      expect(since.status).toBe(304);
      const raw = await new Promise<Buffer>((resolve, reject) => {
        import('node:http').then((http) => http.get(`${base}/repository-to-cpe.json`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
          expect(r.headers['content-encoding']).toBe('gzip');
          const chunks: Buffer[] = [];
          r.on('data', (c) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
        }));
      });
      expect(JSON.parse(gunzipSync(raw).toString())).toEqual(upstream);
      const missing = await fetch(`${base}/container-name-repos-map.json`);
      expect(missing.status).toBe(503);
      expect((await missing.json()).error).toMatch(/has not been loaded yet/);
      const health = await fetch(`${base}/healthz`);
      expect(await health.json()).toEqual({ ok: false, loaded: ['repository-to-cpe.json'], missing: ['container-name-repos-map.json'] });
    } finally {
      server.close();
      await pool.end();
    }
  });
});
