import { describe, expect, it } from 'vitest';
import { CpeError, bindFs, cpeString, unbindCpe, unbindFs, unbindUri, type CpeValue } from '../../../src/model/cpe.js';

const any: CpeValue = { kind: 'any', v: '' };
const na: CpeValue = { kind: 'na', v: '' };
const unset: CpeValue = { kind: 'unset', v: '' };
const set = (v: string): CpeValue => ({ kind: 'set', v });

describe('model/cpe: spec §2.5.1 examples (VEX Repo.Name = BindFS)', () => {
  it.each([
    ['cpe:/a:redhat:enterprise_linux:8::appstream', 'cpe:2.3:a:redhat:enterprise_linux:8:*:appstream:*:*:*:*:*'],
    ['cpe:/a:redhat:ocp_tools', 'cpe:2.3:a:redhat:ocp_tools:*:*:*:*:*:*:*:*'],
    // §4.12 examples A, B, D and §5.1
    ['cpe:/a:redhat:openshift:4.16::el9', 'cpe:2.3:a:redhat:openshift:4.16:*:el9:*:*:*:*:*'],
    ['cpe:/a:redhat:rhel_satellite_client:6::el6', 'cpe:2.3:a:redhat:rhel_satellite_client:6:*:el6:*:*:*:*:*'],
    ['cpe:/a:redhat:quay:3::el8', 'cpe:2.3:a:redhat:quay:3:*:el8:*:*:*:*:*'],
    ['cpe:/o:redhat:enterprise_linux:6::server', 'cpe:2.3:o:redhat:enterprise_linux:6:*:server:*:*:*:*:*'],
  ])('%s → %s', (uri, fs) => {
    expect(bindFs(unbindCpe(uri))).toBe(fs);
    expect(cpeString(unbindCpe(uri))).toBe(fs);
    expect(bindFs(unbindCpe(fs))).toBe(fs);
  });

  it('leaves attributes 8–11 of a URI unset and keeps escapes in values', () => {
    const w = unbindUri('cpe:/a:redhat:openshift:4.16::el9');
    expect(w.attr).toEqual([set('a'), set('redhat'), set('openshift'), set('4\\.16'), any, set('el9'), any, unset, unset, unset, unset]);
  });

  it('FS form: * is ANY, - is NA, empty is unset', () => {
    const w = unbindFs('cpe:2.3:a:hp:insight:7.4.0.1570:-::*:online:win2003:x64:*');
    expect(w.attr[4]).toEqual(na);
    expect(w.attr[5]).toEqual(unset);
    expect(w.attr[6]).toEqual(any);
    expect(bindFs(w)).toBe('cpe:2.3:a:hp:insight:7.4.0.1570:-:*:*:online:win2003:x64:*');
  });

  it('an all-unset WFN binds to the empty string', () => {
    expect(cpeString({ attr: Array(11).fill(unset) })).toBe('');
  });
});

// Tables from claircore toolkit/types/cpe/wfn_test.go (v1.5.54), which copies NISTIR 7695.
describe('model/cpe: claircore TestBinding', () => {
  it.each([
    [[set('a'), set('microsoft'), set('internet_explorer'), set('8\\.0\\.6001'), set('beta'), any], 'cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*'],
    [[set('a'), set('microsoft'), set('internet_explorer'), set('8\\.*'), set('sp?')], 'cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*'],
    [[set('a'), set('microsoft'), set('internet_explorer'), set('8\\.\\*'), set('sp?')], 'cpe:2.3:a:microsoft:internet_explorer:8.\\*:sp?:*:*:*:*:*:*'],
    [[set('a'), set('hp'), set('insight'), set('7\\.4\\.0\\.1570'), na, unset, unset, set('online'), set('win2003'), set('x64')], 'cpe:2.3:a:hp:insight:7.4.0.1570:-:*:*:online:win2003:x64:*'],
    [[set('a'), set('foo\\\\bar'), set('big\\$money_2010'), unset, unset, unset, unset, set('special'), set('ipod_touch'), set('80gb')], 'cpe:2.3:a:foo\\\\bar:big\\$money_2010:*:*:*:*:special:ipod_touch:80gb:*'],
  ] as [CpeValue[], string][])('%#', (attrs, bound) => {
    const attr = [...attrs, ...Array(11 - attrs.length).fill(unset)];
    expect(bindFs({ attr })).toBe(bound);
  });
});

describe('model/cpe: claircore TestUnbinding', () => {
  it.each([
    ['cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*', [set('a'), set('microsoft'), set('internet_explorer'), set('8\\.0\\.6001'), set('beta'), any, any, any, any, any, any]],
    ['cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*', [set('a'), set('hp'), set('insight_diagnostics'), set('7\\.4\\.0\\.1570'), na, any, any, set('online'), set('win2003'), set('x64'), any]],
    ['cpe:2.3:a:foo\\\\bar:big\\$money:2010:*:*:*:special:ipod_touch:80gb:*', [set('a'), set('foo\\\\bar'), set('big\\$money'), set('2010'), any, any, any, set('special'), set('ipod_touch'), set('80gb'), any]],
    ['cpe:/a:microsoft:internet_explorer:8.0.6001:beta', [set('a'), set('microsoft'), set('internet_explorer'), set('8\\.0\\.6001'), set('beta'), any, any, unset, unset, unset, unset]],
    ['cpe:/a:microsoft:internet_explorer:8.%2a:sp%3f', [set('a'), set('microsoft'), set('internet_explorer'), set('8\\.\\*'), set('sp\\?'), any, any, unset, unset, unset, unset]],
    ['cpe:/a:microsoft:internet_explorer:8.%02:sp%01', [set('a'), set('microsoft'), set('internet_explorer'), set('8\\.*'), set('sp?'), any, any, unset, unset, unset, unset]],
    ['cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~', [set('a'), set('hp'), set('insight_diagnostics'), set('7\\.4\\.0\\.1570'), any, any, any, set('online'), set('win2003'), set('x64'), any]],
    ['cpe:/a:hp:openview_network_manager:7.51:-:~~~linux~~', [set('a'), set('hp'), set('openview_network_manager'), set('7\\.51'), na, any, any, any, set('linux'), any, any]],
    ['cpe:/a:foo~bar:big%7emoney_2010', [set('a'), set('foo\\~bar'), set('big\\~money_2010'), any, any, any, any, unset, unset, unset, unset]],
    ['cpe:/a:redhat:openshift:4', [set('a'), set('redhat'), set('openshift'), set('4'), any, any, any, unset, unset, unset, unset]],
    ['cpe:/a:redhat:openshift:4.%02', [set('a'), set('redhat'), set('openshift'), set('4\\.*'), any, any, any, unset, unset, unset, unset]],
  ] as [string, CpeValue[]][])('%s', (bound, attr) => {
    expect(unbindCpe(bound).attr).toEqual(attr);
  });

  it.each([
    'cpe:2.3:a:hp:insight_diagnostics:7.4.*.1570:-:*:*:online:win2003:x64:*', // misplaced unquoted *
    'cpe:2.3:0:000000:00:0:0:0:0:0:0:0:0:0', // too many components
    'cpe:/a:foo%5cbar:big%24money_2010%07:::~~special~ipod_touch~80gb~', // illegal %07
    'cpe:/a:foo:bar:12.%02.1234', // embedded special character
    'cpe:/a:redhat:openshift:4.*', // disallowed character
    'cpe:/a:b:c:d:e:f:g:h', // more than 7 components
    'cpe:/x:redhat:openshift', // part not a/o/h
    '', 'redhat', 'cpe:2.3:a:b',
  ])('rejects %j', (bound) => {
    expect(() => unbindCpe(bound)).toThrow(CpeError);
  });
});
