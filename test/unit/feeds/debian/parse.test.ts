import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FeedError } from '../../../../src/errors.js';
import { debian } from '../../../../src/feeds/debian/index.js';
import type { Distribution, Vulnerability } from '../../../../src/model/vulnerability.js';
import { FIXTURES, SHARED_FEEDS, collect, makeMirror, parseContext } from '../alpine/helpers.js';

const SHARED_TRACKER = path.join(SHARED_FEEDS, 'debian-security-tracker', 'tracker', 'data', 'json');
const HAPPY_TRACKER = path.join(FIXTURES, 'debian', 'tracker-without-chromium-browser.json');
const release = (c: string) => ({ part: 'debian.dists', path: `debian/dists/${c}/Release`, src: path.join(SHARED_FEEDS, 'deb.debian.org', 'debian', 'dists', c, 'Release') });
const tracker = (src: string) => ({ part: 'debian.tracker', path: 'tracker/data/json', src });

/** claircore mkDist("bookworm", 12), as in its os-release test data (spec §7 Dist row). */
const BOOKWORM: Distribution = {
  did: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', versionCodeName: 'bookworm', versionId: '12',
  arch: '', cpe: '', prettyName: 'Debian GNU/Linux 12 (bookworm)',
};

/** A row by spec §7: one per (source package, id, registered release); every other field zero. */
function row(pkg: string, id: string, description: string, urgency: string, fixed: string): Vulnerability {
  return {
    updater: 'debian/updater', name: id, description, issued: '', links: `https://security-tracker.debian.org/tracker/${id}`,
    severity: urgency, normalizedSeverity: 'Unknown', package: { name: pkg, version: '', module: '', arch: '', kind: 'source' },
    dist: BOOKWORM, repo: null, fixedInVersion: fixed, archOperation: 'invalid', range: null,
  };
}

describe('feeds/debian parse (claircore debian/parser.go)', () => {
  it('yields one row per (package, id, registered release): only bookworm has a Release with a Version here', async () => {
    const mirror = await makeMirror('debian', [release('bookworm'), release('sid'), tracker(HAPPY_TRACKER)]);
    const out = await collect(debian, parseContext(mirror));
    expect(out.map((o) => o.updater)).toEqual(['debian/updater']);
    // The tracker has releases stretch/jessie/buster/sid/bullseye/trixie too: dropped, as claircore drops unregistered codenames.
    expect(out[0].records).toEqual([
      row('chromium', 'CVE-2022-0456', '', 'not yet assigned', '98.0.4758.80-1'),
      row('sope', 'CVE-2025-53603', 'In Alinto SOPE SOGo 2.0.2 through 5.12.2, sope-core/NGExtensions/NGHashMap.m allows a NULL pointer dereference and SOGo crash via a request in which a parameter in the query string is a duplicate of a parameter in the POST body.', 'not yet assigned', '5.8.0-1+deb12u1'),
    ]);
  });

  it('registers nothing without Release files (every row dropped), and --option debian-releases narrows or complains', async () => {
    const bare = await makeMirror('debian', [tracker(HAPPY_TRACKER)]);
    expect((await collect(debian, parseContext(bare)))[0].records).toEqual([]);
    const mirror = await makeMirror('debian', [release('bookworm'), tracker(HAPPY_TRACKER)], [{ part: 'debian.dists', path: 'debian/dists/trixie/Release' }]);
    expect((await collect(debian, parseContext(mirror, { 'debian-releases': 'trixie' })))[0].records).toEqual([]);
    expect((await collect(debian, parseContext(mirror, { 'debian-releases': 'bookworm' })))[0].records).toHaveLength(2);
    await expect(collect(debian, parseContext(mirror, { 'debian-releases': 'bullseye' })))
      .rejects.toMatchObject({ code: 'FEED_INVALID', message: expect.stringContaining('release bullseye was not fetched') });
  });

  const cases: [string, string, RegExp, string][] = [
    // claircore fails on the shared excerpt as a whole: encoding/json cannot put `"releases": []` into its map.
    ['the shared tracker excerpt', SHARED_TRACKER, /cannot unmarshal array into releases/, 'package chromium-browser, CVE-2022-0358'],
    ['truncated JSON', path.join(FIXTURES, 'debian', 'truncated-tracker.json'), /malformed JSON: unexpected end of JSON input at byte 4096/, 'package backupninja'],
    ['a null vulnerability', path.join(FIXTURES, 'debian', 'null-vulnerability-tracker.json'), /cannot use null as a vulnerability/, 'package backupninja, CVE-2005-3111'],
  ];
  it.each(cases)('%s is a FeedError naming file and record', async (_, src, message, record) => {
    const mirror = await makeMirror('debian', [release('bookworm'), tracker(src)]);
    const err = await collect(debian, parseContext(mirror)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FeedError);
    const fe = err as FeedError;
    expect(fe.exitCode).toBe(3);
    expect(fe.message).toMatch(message);
    expect(fe.place).toEqual({ feed: 'debian', file: 'debian.tracker/tracker/data/json', record });
  });

  it('needs the tracker JSON in the fetch record and on disk', async () => {
    const noTracker = await makeMirror('debian', [release('bookworm')]);
    await expect(collect(debian, parseContext(noTracker))).rejects.toThrow(/tracker\/data\/json: not in the fetch record/);
  });
});
