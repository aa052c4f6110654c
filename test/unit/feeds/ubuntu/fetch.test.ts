import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import type { VulnerabilityOutput } from '../../../../src/feeds/types.js';
import { ubuntu } from '../../../../src/feeds/ubuntu/index.js';
import { silentLogger } from '../../../../src/log.js';

const FEEDS = path.resolve(import.meta.dirname, '../../../../../shared/fixtures/feeds');
const SERIES = readFileSync(path.resolve(import.meta.dirname, '../../../fixtures/ubuntu/launchpad/ubuntu/series'));
const JAMMY_BZ2 = readFileSync(path.join(FEEDS, 'ubuntu-oval/oval/oci.com.ubuntu.jammy.cve.oval.xml.bz2'));

/** Upstream as claircore meets it: content negotiation on the OVAL name via Content-Location. */
describe('ubuntu fetch: Launchpad series, HEAD with Accept bzip2, Content-Location', () => {
  const requests: string[] = [];
  let base = '';
  const server = createServer((req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.accept ?? ''}`);
    if (req.url === '/lp/ubuntu/series') return void res.writeHead(200, { 'content-type': 'application/json' }).end(SERIES);
    if (req.method === 'HEAD' && req.url === '/oval/oval/com.ubuntu.jammy.cve.oval.xml') {
      return void res.writeHead(200, { 'content-type': 'application/x-bzip2', 'content-location': 'com.ubuntu.jammy.cve.oval.xml.bz2' }).end();
    }
    if (req.method === 'GET' && req.url === '/oval/oval/com.ubuntu.jammy.cve.oval.xml.bz2') {
      return void res.writeHead(200, { 'content-type': 'application/x-bzip2', etag: '"j1"' }).end(JAMMY_BZ2);
    }
    res.writeHead(404).end();
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches the negotiated bzip2 file for active series, records 404s as absent, and parse follows the record', async () => {
    const mirror = await mkdtemp(path.join(os.tmpdir(), 'ubuntu-fetch-'));
    const ctx = { mirror, partDir: (p: string) => path.join(mirror, p), log: silentLogger, options: {} };
    await ubuntu.fetch({ ...ctx, baseUrls: { 'ubuntu.launchpad': `${base}/lp/`, 'ubuntu.oval': `${base}/oval/` } });
    expect(requests).toEqual([
      'GET /lp/ubuntu/series */*',
      'HEAD /oval/oval/com.ubuntu.jammy.cve.oval.xml application/x-bzip2,application/xml;q=0.9',
      'GET /oval/oval/com.ubuntu.jammy.cve.oval.xml.bz2 */*',
      'HEAD /oval/oval/com.ubuntu.bionic.cve.oval.xml application/x-bzip2,application/xml;q=0.9',
    ]);
    const rec = await readFetchRecord(mirror, 'ubuntu');
    expect(rec?.files.map((f) => `${f.part}/${f.path} ${f.etag}`)).toEqual(['ubuntu.launchpad/ubuntu/series ', 'ubuntu.oval/oval/com.ubuntu.jammy.cve.oval.xml.bz2 "j1"']);
    expect(rec?.absent?.map((a) => `${a.part}/${a.path} ${a.status}`)).toEqual(['ubuntu.oval/oval/com.ubuntu.bionic.cve.oval.xml 404']);

    const outputs: VulnerabilityOutput[] = [];
    for await (const o of ubuntu.parse(ctx)) outputs.push(o as VulnerabilityOutput);
    expect(outputs.map((o) => o.updater)).toEqual(['ubuntu/updater/jammy']);
    const rows = [];
    for await (const r of outputs[0].records) rows.push(r);
    expect(rows).toEqual([]); // the OCI variant's tests are textfilecontent54, which claircore does not read

    // --option ubuntu-releases picks series; one that was never fetched is an error naming it.
    await expect((async () => {
      for await (const o of ubuntu.parse({ ...ctx, options: { 'ubuntu-releases': 'warty' } })) void o;
    })()).rejects.toMatchObject({ exitCode: 3, place: { feed: 'ubuntu', file: 'ubuntu.oval/oval/com.ubuntu.warty.cve.oval.xml.bz2' } });
  });
});
