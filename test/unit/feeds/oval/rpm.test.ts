import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import { readOvalFileTables, rpmFileRecords, type OvalDefinition, type OvalSource, type ProtoVulnerability } from '../../../../src/feeds/oval/index.js';
import type { Vulnerability } from '../../../../src/model/vulnerability.js';

/** A document exercising every rule of spec clair-updaters.md §3.3 (RPMDefsToVulns). */
const DOC = `<?xml version="1.0"?>
<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:red-def="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux">
<definitions>
 <definition id="d1" class="patch"><metadata><title>T1</title><description>D1</description><advisory><severity>High</severity></advisory></metadata>
  <criteria operator="AND">
   <criterion test_ref="t-release" comment="Oracle Linux 8 is installed"/>
   <criteria operator="OR">
    <criterion test_ref="t-module" comment="Module nodejs:18 is enabled"/>
    <criterion test_ref="t-arch" comment="node is earlier than 1:18.1"/>
   </criteria>
   <criterion test_ref="t-nostate" comment="nostate"/>
   <criterion test_ref="t-signed" comment="node is signed with the key"/>
   <criterion test_ref="t-uname" comment="kernel"/>
   <criterion test_ref="t-unknown" comment="unknown test"/>
  </criteria>
 </definition>
 <definition id="d2" class="patch"><metadata><title>T2</title></metadata>
  <criteria><criterion test_ref="t-arch" comment="node"/></criteria>
 </definition>
</definitions>
<tests>
 <red-def:rpminfo_test id="t-release" version="1"><red-def:object object_ref="o-release"/><red-def:state state_ref="s-release"/></red-def:rpminfo_test>
 <red-def:rpminfo_test id="t-module" version="1"><red-def:object object_ref="o-textfile"/></red-def:rpminfo_test>
 <red-def:rpminfo_test id="t-arch" version="1"><red-def:object object_ref="o-node"/><red-def:state state_ref="s-arch"/></red-def:rpminfo_test>
 <red-def:rpminfo_test id="t-nostate" version="1"><red-def:object object_ref="o-lib"/></red-def:rpminfo_test>
 <red-def:rpminfo_test id="t-signed" version="1"><red-def:object object_ref="o-node"/><red-def:state state_ref="s-signed"/></red-def:rpminfo_test>
 <red-def:uname_test id="t-uname" version="1"><red-def:object object_ref="o-node"/></red-def:uname_test>
</tests>
<objects>
 <red-def:rpminfo_object id="o-release" version="1"><red-def:name>oraclelinux-release</red-def:name></red-def:rpminfo_object>
 <red-def:rpminfo_object id="o-node" version="1"><red-def:name>nodejs</red-def:name></red-def:rpminfo_object>
 <red-def:rpminfo_object id="o-lib" version="1"><red-def:name>libuv</red-def:name></red-def:rpminfo_object>
 <textfilecontent54_object id="o-textfile" version="1"/>
</objects>
<states>
 <red-def:rpminfo_state id="s-release" version="1"><red-def:version operation="pattern match">^8</red-def:version></red-def:rpminfo_state>
 <red-def:rpminfo_state id="s-arch" version="1"><red-def:arch operation="pattern match">aarch64|x86_64</red-def:arch><red-def:evr datatype="evr_string" operation="less than"> 1:18.1 </red-def:evr></red-def:rpminfo_state>
 <red-def:rpminfo_state id="s-signed" version="1"><red-def:signature_keyid operation="equals">abc</red-def:signature_keyid></red-def:rpminfo_state>
</states>
</oval_definitions>
`;

const proto = (def: OvalDefinition, dist: string): ProtoVulnerability => ({
  updater: 'u', name: def.title, description: def.description, issued: '', links: '', severity: def.advisory.severity, normalizedSeverity: 'Unknown',
  dist: { did: 'x', name: 'x', version: dist, versionCodeName: '', versionId: dist, arch: '', cpe: '', prettyName: '' }, repo: null, range: null,
});

async function file(name: string, data: Buffer | string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oval-rpm-'));
  await writeFile(path.join(dir, name), data);
  return path.join(dir, name);
}

async function collect(src: OvalSource, protos: (d: OvalDefinition) => ProtoVulnerability[]): Promise<Vulnerability[]> {
  const out: Vulnerability[] = [];
  for await (const v of rpmFileRecords(src, protos)) out.push(v);
  return out;
}

describe('oval rpmFileRecords (ovalutil.RPMDefsToVulns, spec §3.3)', () => {
  it('one record per rpminfo criterion with an <evr> (or no state) × enabled module × proto', async () => {
    const p = await file('doc.xml', DOC);
    const rs = await collect({ path: p, display: 'doc.xml', feed: 'f' }, (d) => (d.id === 'd1' ? [proto(d, '8'), proto(d, '9')] : []));
    expect(rs.map((r) => [r.name, r.package!.name, r.package!.module, r.package!.arch, r.archOperation, r.fixedInVersion, r.dist!.version])).toEqual([
      // depth first: the child criteria's criterions come first
      ['T1', 'nodejs', 'nodejs:18', 'aarch64|x86_64', 'pattern match', ' 1:18.1 ', '8'],
      ['T1', 'nodejs', 'nodejs:18', 'aarch64|x86_64', 'pattern match', ' 1:18.1 ', '9'],
      ['T1', 'libuv', 'nodejs:18', '', 'invalid', '', '8'],
      ['T1', 'libuv', 'nodejs:18', '', 'invalid', '', '9'],
    ]);
    expect(rs[0].package!.kind).toBe('binary');
  });

  it('drains a compressed stream past the root element: a cut gzip trailer is an error, as in claircore\'s fetcher', async () => {
    const gz = gzipSync(DOC);
    const whole = await file('ok.xml.gz', gz);
    await expect(readOvalFileTables({ path: whole, display: 'ok.xml.gz', feed: 'f', compression: 'gzip' })).resolves.toBeTruthy();
    const cut = await file('cut.xml.gz', gz.subarray(0, gz.length - 4));
    await expect(readOvalFileTables({ path: cut, display: 'f/cut.xml.gz', feed: 'f', compression: 'gzip' })).rejects.toMatchObject({
      code: 'FEED_INVALID', place: { feed: 'f', file: 'f/cut.xml.gz' }, message: expect.stringMatching(/corrupt or truncated gzip stream/),
    });
    // The configured compression wins over the bytes: a plain file where bzip2 is expected is refused.
    const plain = await file('plain.xml.bz2', DOC);
    await expect(readOvalFileTables({ path: plain, display: 'plain.xml.bz2', feed: 'f', compression: 'bzip2' })).rejects.toBeInstanceOf(FeedError);
    await expect(readOvalFileTables({ path: plain, display: 'plain.xml.bz2', feed: 'f' })).resolves.toBeTruthy();
  });
});
