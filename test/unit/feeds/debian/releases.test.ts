import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { normalizeSeverity } from '../../../../src/feeds/debian/parse.js';
import { debianDist, listingCodenames, releaseMajor, releasesOption } from '../../../../src/feeds/debian/releases.js';
import { EXAMPLE_A } from '../../../helpers/records.js';
import { SHARED_FEEDS } from '../alpine/helpers.js';

const DISTS = path.join(SHARED_FEEDS, 'deb.debian.org', 'debian', 'dists');
const major = (s: string) => {
  const v = releaseMajor(Buffer.from(s, 'latin1'));
  return 'major' in v ? v.major : 'skip';
};

describe('feeds/debian releases (claircore debian/updater.go findReleases, releases.go)', () => {
  it('reads the Version of the real Release files: bookworm → 12; sid has none', async () => {
    expect(releaseMajor(await readFile(path.join(DISTS, 'bookworm', 'Release')))).toEqual({ major: 12 });
    expect(releaseMajor(await readFile(path.join(DISTS, 'sid', 'Release')))).toEqual({ skip: 'no version assigned' });
  });

  // Expected values: what Go's net/textproto ReadMIMEHeader + strings.Split + strconv.ParseInt(…, 10, 32)
  // (claircore's code path, over the first 513 bytes plus "\r\n\r\n") returned for these inputs.
  it.each([
    ['Origin: Debian\nVersion: 12.2\nCodename: bookworm\n', 12],
    ['Version: 12\n', 'skip'],
    ['Version: x.1\n', 'skip'],
    ['Version: +12.1\n', 12],
    ['Version: -1.0\n', -1],
    ['Version: 2147483648.1\n', 'skip'],
    ['VERSION: 11.9\n', 11],
    ['version: 11.9\n', 11],
    ['Version : 11.9\n', 'skip'],
    [' Version: 11.9\n', 'skip'],
    ['Origin: Debian\nVersion:\n 13.1\n', 13],
    ['Origin: Debian\nVersion: 13.\n', 13],
    ['Origin: Debian\nBroken line\nVersion: 12.1\n', 'skip'],
    ['Origin: Debian\n\nVersion: 12.1\n', 'skip'],
    ['Origin: Deb\x01ian\nVersion: 12.1\n', 'skip'],
    ['Origin: Debian\r\nVersion: 12.1\r\n', 12],
    ['Version: 12.1\nVersion: 13.1\n', 12],
    ['Origin: ' + 'x'.repeat(520) + '\nVersion: 12.1\n', 'skip'],
    ['Origin: Debian\nVersion: 12.1\nMD5Sum:\n abc 1 x\nDescrip', 'skip'],
    ['Origin: Debian\nVersion: 012.1\n', 12],
    [':x\nVersion: 12.1\n', 'skip'],
    ['Version: 1_2.1\n', 'skip'],
  ])('%j → %s', (text, want) => {
    expect(major(text)).toBe(want);
  });

  it('takes codenames from the dists/ listing the way claircore filters its links', () => {
    const html = [
      '<a href="?C=N;O=D">Name</a>', '<a href="/debian/">Parent Directory</a>', '<a href="Debian12.5/">Debian12.5/</a>',
      '<a href="README">README</a>', '<a href="bookworm/">bookworm/</a>', '<a href="bookworm-backports/">x</a>',
      '<a href="bookworm-updates/">x</a>', '<a href="bullseye/">bullseye/</a>', '<a href="experimental/">x</a>',
      '<a href="oldstable/">x</a>', '<a href="rc-buggy/">x</a>', '<a href="sid/">sid/</a>', '<a href="stable/">x</a>',
      '<a href="testing/">x</a>', '<a href="trixie/">trixie/</a>', '<a href="unstable/">x</a>', '<a href="bookworm/">again</a>',
      '<a href="https://www.debian.org/">elsewhere</a>',
    ].join('\n');
    expect(listingCodenames(html)).toEqual(['bookworm', 'bullseye', 'trixie']);
  });

  it('builds the Dist claircore builds (mkDist): equal to its os-release test data and the spec example', () => {
    // claircore debian/testdata/dist/12/etc/os-release: NAME, VERSION_ID, VERSION, VERSION_CODENAME, ID, PRETTY_NAME
    expect(debianDist('bookworm', 12)).toEqual({
      did: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', versionCodeName: 'bookworm', versionId: '12',
      arch: '', cpe: '', prettyName: 'Debian GNU/Linux 12 (bookworm)',
    });
    expect(debianDist('bookworm', 12)).toEqual(EXAMPLE_A.dist);
    expect(debianDist('bullseye', 11).prettyName).toBe('Debian GNU/Linux 11 (bullseye)');
  });

  it('normalizes severity as claircore debian/severity.go (case-insensitive, one step up)', () => {
    expect(['unimportant', 'low', 'medium', 'high', 'HIGH', 'Medium', 'not yet assigned', 'end-of-life', 'high**', '', 'h\u0130gh'].map(normalizeSeverity))
      .toEqual(['Low', 'Medium', 'High', 'Critical', 'Critical', 'High', 'Unknown', 'Unknown', 'Unknown', 'Unknown', 'Critical']);
  });

  it('parses --option debian-releases', () => {
    expect(releasesOption({})).toBeUndefined();
    expect(releasesOption({ 'debian-releases': ' bookworm, trixie,bookworm,' })).toEqual(['bookworm', 'trixie']);
    expect(() => releasesOption({ 'debian-releases': '../etc' })).toThrow(ConfigError);
    expect(() => releasesOption({ 'debian-releases': ',' })).toThrow(ConfigError);
  });
});
