import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import { aws } from '../../../../src/feeds/aws/index.js';
import { MirrorListError, locate, mirrorFile, parseMirrorList } from '../../../../src/feeds/aws/mirrors.js';
import { PARTS, RELEASES, normalizeSeverity } from '../../../../src/feeds/aws/releases.js';
import { RepoMdError, parseRepoMd } from '../../../../src/feeds/aws/repomd.js';
import { updateInfoRecords, versionString } from '../../../../src/feeds/aws/updateinfo.js';
import { readFetchRecord } from '../../../../src/feeds/fetch-record.js';
import { vulnHash } from '../../../../src/model/hash.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';
import { startFeedServer, type FeedServer } from '../../../helpers/feed-server.js';
import { FIXTURES, SHARED_FEEDS, collect, fetchContext, makeMirror, parseContext } from '../cvss/helpers.js';

const fixture = (name: string) => path.join(FIXTURES, 'aws', name);
const AL2023_REPODATA = path.join(SHARED_FEEDS, 'aws-alas/al2023/core/guids/46ff4933b89b948580f3b223b826fee3c1830b85885db3f7f90502c0ac99698c/x86_64/repodata');
const AL1 = RELEASES[0];
const AL2023 = RELEASES[2];

async function* once(b: Buffer | string): AsyncGenerator<Buffer | string> {
  yield b;
}
async function drain(input: Buffer | string, r = AL2023): Promise<Vulnerability[]> {
  const out: Vulnerability[] = [];
  for await (const v of updateInfoRecords(once(input), r.updater, r.dist)) out.push(v);
  return out;
}

describe('feeds/aws rules (claircore aws)', () => {
  it('versionString: claircore aws/updater_test.go TestVersionString', () => {
    expect(versionString('', '3.3.10', '26.amzn2')).toBe('3.3.10-26.amzn2');
    expect(versionString('0', '3.3.10', '26.amzn2')).toBe('3.3.10-26.amzn2');
    expect(versionString('10', '3.1.0', '8.amzn2.0.8')).toBe('10:3.1.0-8.amzn2.0.8');
  });

  it('updater names, Dist values (spec §13) and exact-case severity normalisation', () => {
    expect(RELEASES.map((r) => r.updater)).toEqual(['aws-AL1-updater', 'aws-AL2-updater', 'aws-AL2023-updater']);
    expect(AL1.dist).toEqual({
      did: 'amzn', name: 'Amazon Linux AMI', version: '2018.03', versionCodeName: '', versionId: '2018.03', arch: '',
      cpe: 'cpe:2.3:o:amazon:linux:2018.03:ga:*:*:*:*:*:*', prettyName: 'Amazon Linux AMI 2018.03',
    });
    expect(RELEASES[1].dist).toMatchObject({ name: 'Amazon Linux', version: '2', versionId: '2', prettyName: 'Amazon Linux 2', cpe: 'cpe:2.3:o:amazon:amazon_linux:2:*:*:*:*:*:*:*' });
    expect(AL2023.dist).toMatchObject({ version: '2023', prettyName: 'Amazon Linux 2023', cpe: 'cpe:2.3:o:amazon:amazon_linux:2023:*:*:*:*:*:*:*' });
    expect(['low', 'medium', 'important', 'critical', 'Important', ''].map(normalizeSeverity)).toEqual(['Low', 'Medium', 'High', 'Critical', 'Unknown', 'Unknown']);
  });

  it("mirror lists: claircore aws/client_test.go TestClientGetMirrors over its testdata", async () => {
    const urls = async (n: string) => parseMirrorList(await readFile(fixture(`claircore-mirrors_linux${n}.txt`))).map((m) => m.url?.href);
    const al1 = await urls('1');
    expect(al1.length).toBe(11);
    expect(al1[0]).toBe('http://packages.us-west-2.amazonaws.com/2018.03/updates/c539f2128d87/x86_64');
    expect(al1[10]).toBe('http://packages.ap-southeast-2.amazonaws.com/2018.03/updates/c539f2128d87/x86_64');
    expect(await urls('2')).toEqual(['https://cdn.amazonlinux.com/2/core/2.0/x86_64/221a4af09d96ac4e34202cc7bdfa252410419542548cc685dc86ed1c17ca4204']);
    expect(await urls('2023')).toEqual(['https://cdn.amazonlinux.com/al2023/core/guids/46ff4933b89b948580f3b223b826fee3c1830b85885db3f7f90502c0ac99698c/x86_64/']);
  });

  it("mirror lists as Go reads them: a control character (CRLF) fails url.Parse; empty or relative lines are mirrors that fail", () => {
    expect(() => parseMirrorList(Buffer.from('http://a/x\r\nhttp://b/y\r\n'))).toThrow(MirrorListError);
    expect(parseMirrorList(Buffer.from('\n\nrelative/path\nftp://h/x\nhttp://h/x\n')).map((m) => m.url?.href)).toEqual([undefined, undefined, undefined, undefined, 'http://h/x']);
  });

  it('mirror files: path.Join of the mirror path and /repodata/<file>; mapped onto the configured part base', () => {
    const al2023 = new URL('https://cdn.amazonlinux.com/al2023/core/guids/g/x86_64/');
    expect(mirrorFile(al2023, 'repomd.xml').href).toBe('https://cdn.amazonlinux.com/al2023/core/guids/g/x86_64/repodata/repomd.xml');
    expect(mirrorFile(new URL('http://h/a/./b/../c'), 'updateinfo.xml.gz').href).toBe('http://h/a/c/repodata/updateinfo.xml.gz');
    const bases = { 'aws.cdn': 'http://127.0.0.1:1/aws-alas/', 'aws.al1': PARTS['aws.al1'] };
    expect(locate(mirrorFile(al2023, 'repomd.xml'), PARTS, bases, 'aws.cdn')).toEqual({
      part: 'aws.cdn', rel: 'al2023/core/guids/g/x86_64/repodata/repomd.xml', url: 'http://127.0.0.1:1/aws-alas/al2023/core/guids/g/x86_64/repodata/repomd.xml',
    });
    expect(locate(new URL('http://packages.us-west-2.amazonaws.com/2018.03/updates/x/repodata/repomd.xml'), PARTS, bases, 'aws.al1')).toEqual({
      part: 'aws.al1', rel: '_hosts/packages.us-west-2.amazonaws.com/2018.03/updates/x/repodata/repomd.xml', url: 'http://packages.us-west-2.amazonaws.com/2018.03/updates/x/repodata/repomd.xml',
    });
  });

  it("repomd.xml: claircore's test_repomd.xml has 6 repos (Test_RepoMD_Parse) with an updateinfo; the shared one's checksum is the fingerprint", async () => {
    const md = await parseRepoMd(once(await readFile(fixture('claircore-test_repomd.xml'))));
    expect(md.repos).toBe(6);
    expect(md.updateinfoChecksum).toMatch(/^[0-9a-f]{64}$/);
    expect((await parseRepoMd(once(await readFile(path.join(AL2023_REPODATA, 'repomd.xml'))))).updateinfoChecksum).toBe('bec8d2c717d39b54b81de021332338e22edac2da0b363a407f86880c4fb62d6f');
    await expect(parseRepoMd(once('<repomd><revision>12x</revision></repomd>'))).rejects.toThrow(RepoMdError);
    await expect(parseRepoMd(once('<repomd><data type="updateinfo"><size>1.5</size></data></repomd>'))).rejects.toThrow(RepoMdError);
    expect((await parseRepoMd(once('<repomd><revision> 7 </revision><data type="primary"/></repomd>'))).updateinfoChecksum).toBeUndefined();
  });
});

describe('feeds/aws updateinfo (claircore aws Updater.Parse)', () => {
  it("claircore's test_updateinfo.xml (AL1): 1170 updates (Test_Updates_Parse); 21766 distinct rows, as claircore v1.5.48 and v1.5.54 stored from it (conformance oracle)", async () => {
    const rs = await drain(gunzipSync(await readFile(fixture('claircore-test_updateinfo.xml.gz'))), AL1);
    expect(new Set(rs.map((r) => r.name)).size).toBe(1170);
    expect(new Set(rs.map(vulnHash)).size).toBe(21766);
    const first = rs[0];
    expect(first).toMatchObject({
      updater: 'aws-AL1-updater', name: 'ALAS-2011-1', issued: '', severity: 'medium', normalizedSeverity: 'Medium',
      links: 'http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2011-3192 https://rhn.redhat.com/errata/RHSA-2011:1245.html',
      package: { name: 'httpd-devel', version: '', module: '', arch: 'i686', kind: 'binary' },
      fixedInVersion: '2.2.21-1.18.amzn1', archOperation: 'equals', range: null, repo: null, dist: AL1.dist,
    });
    expect(first.description.startsWith('Package updates are available for Amazon Linux AMI that fix the following vulnerabilities:\nCVE-2011-3192:\n\tA flaw')).toBe(true);
    expect(rs.find((r) => r.name === 'ALAS-2011-1' && r.package?.name === 'mod_ssl')?.fixedInVersion).toBe('1:2.2.21-1.18.amzn1');
  });

  it('the shared AL2023 excerpt: 61 rows, "Important" normalises to Unknown (exact match), every package of every collection', async () => {
    const rs = await drain(gunzipSync(await readFile(path.join(AL2023_REPODATA, 'updateinfo.xml.gz'))));
    expect(rs.length).toBe(61);
    expect(rs[0]).toMatchObject({ name: 'ALAS2023-2023-001', severity: 'Important', normalizedSeverity: 'Unknown', package: { name: 'rsyslog-mmfields-debuginfo', arch: 'x86_64' } });
    expect(new Set(rs.map((r) => r.package?.arch))).toEqual(new Set(['x86_64', 'aarch64', 'i686', 'noarch']));
  });

  // Checked against Go: encoding/xml decoding this document into claircore's alas.Updates shapes gives the same.
  it('Go encoding/xml: direct character data only, the last repeated field wins, only children of the root are updates; issued is never decoded', async () => {
    const rs = await drain(`<?xml version="1.0"?><updates>
      <update><id>first</id><id>ALAS-1<b>ignored</b>-X</id><issued date="not a date"/><updated date="garbage"/>
        <severity>low</severity><description><![CDATA[a < b]]>&amp;c&#13;&#10;d
</description>
        <references><reference href="h1"/><reference/></references><references><reference href="h2"/></references>
        <reference href="not-in-references"/>
        <pkglist><collection><package name="p" epoch="2" version="1" release="r" arch="noarch"/></collection>
          <collection><package name="q" version="1" release="r" arch="src"/><x><package name="deeper"/></x></collection></pkglist>
      </update>
      <group><update><id>nested</id><pkglist><collection><package name="n"/></collection></pkglist></update></group>
    </updates>`);
    expect(rs.map((r) => [r.name, r.package?.name, r.fixedInVersion, r.links, r.issued])).toEqual([
      ['ALAS-1-X', 'p', '2:1-r', 'h1  h2', ''],
      ['ALAS-1-X', 'q', '1-r', 'h1  h2', ''],
    ]);
    expect(rs[0].description).toBe('a < b&c\r\nd\n');
    expect(rs[0].normalizedSeverity).toBe('Low');
  });
});

describe('feeds/aws fetch and parse', () => {
  let server: FeedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** An upstream tree: cdn/ stands for https://cdn.amazonlinux.com/, al1/ for the AL1 host. */
  async function upstream(files: Record<string, Buffer | string>): Promise<string> {
    const root = await mkdtemp(path.join(tmpdir(), 'aws-upstream-'));
    for (const [rel, body] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), body);
    }
    return root;
  }

  it('mirror list → repomd.xml → updateinfo.xml.gz, trying mirrors in order; absent mirror lists get no updater; conditional re-fetch', async () => {
    const md = await readFile(path.join(AL2023_REPODATA, 'repomd.xml'));
    const ui = await readFile(path.join(AL2023_REPODATA, 'updateinfo.xml.gz'));
    const root = await upstream({
      'cdn/al2023/core/mirrors/latest/x86_64/mirror.list': 'https://cdn.amazonlinux.com/gone/x86_64/\nhttps://cdn.amazonlinux.com/al2023/core/guids/g/x86_64/\n',
      'cdn/al2023/core/guids/g/x86_64/repodata/repomd.xml': md,
      'cdn/al2023/core/guids/g/x86_64/repodata/updateinfo.xml.gz': ui,
    });
    server = await startFeedServer({ root });
    const mirror = await makeMirror('aws', []);
    const ctx = fetchContext(mirror, { 'aws.cdn': `${server.url}/cdn/`, 'aws.al1': `${server.url}/al1/` });
    await aws.fetch(ctx);
    expect(server.log.map((r) => [r.path, r.status])).toEqual([
      ['/al1/2018.03/updates/x86_64/mirror.list', 404],
      ['/cdn/2/core/latest/x86_64/mirror.list', 404],
      ['/cdn/al2023/core/mirrors/latest/x86_64/mirror.list', 200],
      ['/cdn/gone/x86_64/repodata/repomd.xml', 404],
      ['/cdn/al2023/core/guids/g/x86_64/repodata/repomd.xml', 200],
      ['/cdn/gone/x86_64/repodata/updateinfo.xml.gz', 404],
      ['/cdn/al2023/core/guids/g/x86_64/repodata/updateinfo.xml.gz', 200],
    ]);
    const rec = await readFetchRecord(mirror, 'aws');
    expect(rec?.absent?.map((a) => `${a.part}/${a.path}`)).toEqual(['aws.al1/2018.03/updates/x86_64/mirror.list', 'aws.cdn/2/core/latest/x86_64/mirror.list']);
    const out = await collect<Vulnerability>(aws, parseContext(mirror));
    expect(out.map((o) => [o.type, o.updater, o.records.length])).toEqual([['vulnerability', 'aws-AL2023-updater', 61]]);

    const before = server.log.length;
    await aws.fetch(ctx);
    expect(server.log.slice(before).filter((r) => r.status === 200)).toEqual([]);
  });

  it('fails the fetch where claircore fails the updater: no usable repomd, no updateinfo entry, a bad gzip header', async () => {
    const list = 'https://cdn.amazonlinux.com/m/\n';
    const noEntry = await upstream({ 'cdn/al2023/core/mirrors/latest/x86_64/mirror.list': list, 'cdn/m/repodata/repomd.xml': '<repomd><data type="primary"/></repomd>' });
    const notGzip = await upstream({
      'cdn/al2023/core/mirrors/latest/x86_64/mirror.list': list, 'cdn/m/repodata/repomd.xml': '<repomd><data type="updateinfo"/></repomd>', 'cdn/m/repodata/updateinfo.xml.gz': '<updates/>',
    });
    const badMd = await upstream({ 'cdn/al2023/core/mirrors/latest/x86_64/mirror.list': list, 'cdn/m/repodata/repomd.xml': '<repomd><data>' });
    for (const [root, message] of [[noEntry, /lists no updateinfo/], [notGzip, /not gzip/], [badMd, /every mirror failed to give a repomd.xml/]] as const) {
      server = await startFeedServer({ root });
      const mirror = await makeMirror('aws', []);
      const err = await aws.fetch(fetchContext(mirror, { 'aws.cdn': `${server.url}/cdn/`, 'aws.al1': `${server.url}/al1/` })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FeedError);
      expect((err as Error).message).toMatch(message);
      await server.close();
      server = undefined;
    }
  });

  it('malformed mirror files are FeedErrors naming the file (and line); nothing is yielded past them', async () => {
    const base = 'https://cdn.amazonlinux.com/';
    const list = { part: 'aws.cdn', path: AL2023.mirrorList, body: `${base}m/\n` };
    const md = { part: 'aws.cdn', path: 'm/repodata/repomd.xml', body: await readFile(path.join(AL2023_REPODATA, 'repomd.xml')) };
    const absent = [{ part: 'aws.al1', path: AL1.mirrorList }, { part: 'aws.cdn', path: RELEASES[1].mirrorList }];
    const broken = await makeMirror('aws', [list, md, { part: 'aws.cdn', path: 'm/repodata/updateinfo.xml.gz', body: gzipSync('<updates><update><id>x</id></updat></updates>') }], { absent });
    await expect(collect(aws, parseContext(broken))).rejects.toMatchObject({ exitCode: 3, place: { feed: 'aws', file: 'aws.cdn/m/repodata/updateinfo.xml.gz', record: 'line 1' } });
    const cut = (await readFile(path.join(AL2023_REPODATA, 'updateinfo.xml.gz'))).subarray(0, 700);
    const truncated = await makeMirror('aws', [list, md, { part: 'aws.cdn', path: 'm/repodata/updateinfo.xml.gz', body: cut }], { absent });
    await expect(collect(aws, parseContext(truncated))).rejects.toThrow(FeedError);
    const crlf = await makeMirror('aws', [{ ...list, body: `${base}m/\r\n` }, md], { absent });
    await expect(collect(aws, parseContext(crlf))).rejects.toMatchObject({ place: { file: `aws.cdn/${AL2023.mirrorList}`, record: 'line 1' } });
    const unfetched = await makeMirror('aws', [list, md], { absent: [absent[0]] });
    await expect(collect(aws, parseContext(unfetched))).rejects.toThrow(/aws.cdn\/2\/core\/latest\/x86_64\/mirror.list: not in the fetch record/);
  });
});
