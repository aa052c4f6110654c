import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  OvalDecodeError, goOperation, ovalLinks, parseOvalDate, readOvalDefinitions, readOvalTables, walkCriteria,
  type OvalDefinition,
} from '../../../../src/feeds/oval/index.js';

const doc = (body: string) => `<?xml version="1.0"?>\n<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:linux-def="x">${body}</oval_definitions>`;
const chunks = (s: string, size = 7) => Readable.from(Array.from({ length: Math.ceil(s.length / size) }, (_, i) => Buffer.from(s.slice(i * size, (i + 1) * size))));

async function defs(xml: string): Promise<OvalDefinition[]> {
  const out: OvalDefinition[] = [];
  for await (const d of readOvalDefinitions(chunks(xml))) out.push(d);
  return out;
}

describe('oval/document', () => {
  it('reads definitions one at a time, text as Go decodes it (entities, CDATA, CRLF → LF, no trimming, nested text skipped)', async () => {
    const [d] = await defs(doc(`<definitions><definition id="oval:x:def:1" class="vulnerability"><metadata>
      <title> T &amp; <![CDATA[<b>]]>&#x41;\r\nx\ry </title>
      <description>a<b>skipped</b>c</description>
      <reference source="CVE" ref_id="CVE-1" ref_url="https://r/1"/>
      <advisory><severity>High</severity><ref>https://a/1</ref><bug>https://b/1</bug><cve href="https://c/1">CVE-1</cve><public_date>2017-01-31 22:59:00 UTC</public_date></advisory>
    </metadata><criteria operator="OR"><criterion test_ref="t1" comment="c1"/><criteria><criterion test_ref="t2" negate="true"/></criteria></criteria></definition></definitions>`));
    expect(d.title).toBe(' T & <b>A\nx\ny ');
    expect(d.description).toBe('ac');
    expect(d.advisory).toMatchObject({ severity: 'High', refs: ['https://a/1'], bugs: ['https://b/1'], publicDate: '2017-01-31T22:59:00Z', issued: '' });
    expect(walkCriteria(d.criteria).map((c) => c.testRef)).toEqual(['t2', 't1']);
    expect(walkCriteria(d.criteria)[0].negate).toBe(true);
    expect(ovalLinks(d)).toBe('https://r/1 https://a/1 https://b/1 https://c/1');
  });

  it('Links drops empty and repeated URLs, keeping the first', () => {
    const d = {
      references: [{ refUrl: 'u1' }, { refUrl: '' }], advisory: { refs: ['u2', 'u1'], bugs: ['u3'], cves: [{ href: 'u2' }, { href: '' }] },
    } as unknown as OvalDefinition;
    expect(ovalLinks(d)).toBe('u1 u2 u3');
  });

  it('stops at the end of the root element, as Go Decode does', async () => {
    expect(await defs(doc('<definitions/>') + '<trailing garbage')).toEqual([]);
  });

  it('refuses a wrong root, broken XML and a truncated document', async () => {
    await expect(defs('<other/>')).rejects.toThrow(/expected element type <oval_definitions>/);
    await expect(defs(doc('<definitions><definition></definitions>'))).rejects.toThrow();
    await expect(defs(doc('<definitions>').slice(0, -20))).rejects.toThrow(/unexpected end|unclosed|end/i);
    await expect(defs(doc('<definitions>&nbsp;</definitions>'))).rejects.toThrow();
  });

  it('type-checks what goval-parser decodes into typed fields', async () => {
    await expect(defs(doc('<definitions><definition><criteria><criterion negate="maybe"/></criteria></definition></definitions>'))).rejects.toBeInstanceOf(OvalDecodeError);
    await expect(defs(doc('<definitions><definition id="d"><metadata><advisory><issued/></advisory></metadata></definition></definitions>')))
      .rejects.toThrow(/unable to decode string as datestamp/);
    await expect(readOvalTables(chunks(doc('<states><linux-def:dpkginfo_state id="s" version="x"/></states>')))).rejects.toBeInstanceOf(OvalDecodeError);
    await expect(readOvalTables(chunks(doc('<states><dpkginfo_state id="s"><evr operation="newer">1</evr></dpkginfo_state></states>')))).rejects.toThrow(/unknown operation/);
  });

  it('builds lookup tables in goval-parser kind order; a duplicate id keeps the last element', async () => {
    const t = await readOvalTables(chunks(doc(`<tests>
      <linux-def:dpkginfo_test id="t" version="1"><linux-def:object object_ref="o1"/><linux-def:state state_ref="s1"/></linux-def:dpkginfo_test>
      <linux-def:dpkginfo_test id="t" version="2"><linux-def:object object_ref="o2"/></linux-def:dpkginfo_test>
      <line_test id="t"/></tests>
      <objects><linux-def:dpkginfo_object id="o2"><linux-def:name var_ref="v">ignored</linux-def:name></linux-def:dpkginfo_object></objects>
      <states><linux-def:dpkginfo_state id="s1"><linux-def:evr operation="less than"> 1.0 </linux-def:evr></linux-def:dpkginfo_state></states>
      <variables><constant_variable id="v"><value>a</value><value>b</value></constant_variable></variables>`)));
    expect(t.tests.get('t')).toMatchObject({ kind: 'line_test' });
    expect(t.objects.get('o2')).toMatchObject({ kind: 'dpkginfo_object', name: { varRef: 'v', body: 'ignored' } });
    expect(t.states.get('s1')).toMatchObject({ evr: { operation: 'less than', body: ' 1.0 ' } });
    expect(t.variables.get('v')).toEqual(['a', 'b']);
  });
});

describe('oval/date (goval-parser Date)', () => {
  it('decodes the attribute and text forms', () => {
    expect(parseOvalDate([['date', '2007-01-16']], '')).toBe('2007-01-16T00:00:00Z');
    expect(parseOvalDate([['date', '']], '2007-01-16')).toBe('');
    expect(parseOvalDate([], 'unknown')).toBe('');
    expect(parseOvalDate([], '2020-05-11 04:53:34 UTC')).toBe('2020-05-11T04:53:34Z');
    expect(parseOvalDate([], 'Mon, 02 Jan 2006 15:04:05 -0700')).toBe('2006-01-02T22:04:05Z');
    expect(parseOvalDate([], '2024-01-02T03:04:05.5+01:00')).toBe('2024-01-02T02:04:05.5Z');
    expect(parseOvalDate([], '2024-01-02 3:04:05')).toBe('2024-01-02T03:04:05Z');
    expect(() => parseOvalDate([], '2024-02-30')).toThrow(/datestamp/);
    expect(() => parseOvalDate([], '')).toThrow(/datestamp/);
  });
});

describe('oval operation (goval-parser Operation.UnmarshalText)', () => {
  it('takes the name starting at the first occurrence', () => {
    expect(goOperation('less than')).toBe('less than');
    expect(goOperation('')).toBe('equals');
    expect(goOperation('not')).toBe('not equals');
    expect(() => goOperation('than')).toThrow(/unknown operation/);
  });
});
