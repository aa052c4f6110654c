import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeBundle, type SourcedOutput } from '../../src/bundle/write.js';
import type { Manifest } from '../../src/bundle/manifest.js';
import { silentLogger } from '../../src/log.js';
import { version } from '../../src/model/version.js';
import type { EnrichmentRecord, Vulnerability } from '../../src/model/vulnerability.js';

/**
 * Records for loader tests. Examples A and B are clair-matcher-db.md §2.2's worked examples
 * (their claircore md5 is given there); the rest are variations of them.
 */
export const EXAMPLE_A: Vulnerability = {
  updater: 'debian/updater', name: 'CVE-2023-12345', description: 'Example overflow in libfoo.',
  issued: '2023-05-01T00:00:00Z', links: 'https://security-tracker.debian.org/tracker/CVE-2023-12345',
  severity: 'Medium', normalizedSeverity: 'Medium',
  package: { name: 'libfoo', version: '', module: '', arch: '', kind: 'source' },
  dist: {
    did: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', versionCodeName: 'bookworm',
    versionId: '12', arch: '', cpe: '', prettyName: 'Debian GNU/Linux 12 (bookworm)',
  },
  repo: null, fixedInVersion: '1.2.3-1+deb12u1', archOperation: 'invalid', range: null,
};
export const EXAMPLE_A_MD5 = '35e49b7588b189419f89ff74607f5bd3';

export const EXAMPLE_B: Vulnerability = {
  updater: 'osv/npm', name: 'GHSA-abcd-efgh-ijkl', description: 'Prototype pollution in foo',
  issued: '2024-02-03T04:05:06.789Z',
  links: 'https://github.com/advisories/GHSA-abcd-efgh-ijkl https://osv.dev/vulnerability/CVE-2024-0001',
  severity: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', normalizedSeverity: 'Critical',
  package: { name: 'foo', version: '', module: '', arch: '', kind: 'binary' },
  dist: null, repo: { name: 'npm', key: '', uri: 'https://www.npmjs.com/' },
  fixedInVersion: '1.4.2', archOperation: 'invalid',
  range: { lower: version('semver', [0, 1, 0, 0]), upper: version('semver', [0, 1, 4, 2]) },
  self: { space: 'GHSA', name: 'abcd-efgh-ijkl' }, aliases: [{ space: 'CVE', name: '2024-0001' }],
};
export const EXAMPLE_B_MD5 = '869a1bf030553bf3fe8efe1852ac6b50';

/** Example C of clair-matcher-db.md §2.3 (enrichment hash 2670414c07fe9530644664bced09e5ec). */
export const EXAMPLE_ENRICHMENT: EnrichmentRecord = {
  updater: 'clair.cvss', tags: ['CVE-2024-0001'],
  json: '{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.8,"baseSeverity":"CRITICAL"}',
};
export const EXAMPLE_ENRICHMENT_MD5 = '2670414c07fe9530644664bced09e5ec';

/** n variations of a record: distinct names and fixed-in versions. */
export function variations(base: Vulnerability, n: number, tag = ''): Vulnerability[] {
  return Array.from({ length: n }, (_, i) => ({
    ...base, name: `${base.name}-${tag}${i}`, fixedInVersion: `${base.fixedInVersion}.${i}`,
  }));
}

export function notVulnerable(base: Vulnerability): Vulnerability {
  return { ...base, name: base.name + '-nv', invert: true };
}

export interface UpdaterInput {
  name: string;
  kind?: 'vulnerability' | 'enrichment';
  records: (Vulnerability | EnrichmentRecord)[] | AsyncIterable<Vulnerability | EnrichmentRecord>;
}

async function* from<T>(items: T[] | AsyncIterable<T>): AsyncGenerator<T> {
  yield* items;
}

/** Writes a bundle from in-memory records (the "internal source" of the loader tests). */
export async function makeBundle(updaters: UpdaterInput[], created: string, dir?: string): Promise<{ dir: string; manifest: Manifest }> {
  const out = dir ?? path.join(await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-test-')), 'bundle');
  async function* outputs(): AsyncGenerator<SourcedOutput> {
    for (const u of updaters) {
      if (u.kind === 'enrichment') {
        yield { type: 'enrichment', updater: u.name, records: from(u.records as EnrichmentRecord[] | AsyncIterable<EnrichmentRecord>), source: 'test' };
      } else {
        yield { type: 'vulnerability', updater: u.name, records: from(u.records as Vulnerability[] | AsyncIterable<Vulnerability>), source: 'test' };
      }
    }
  }
  const manifest = await writeBundle({
    out, created, target: 'claircore-v1.5.54', log: silentLogger, outputs: outputs(),
    sources: [{ name: 'test', urls: {}, fetched_at: created, files: [] }],
  });
  return { dir: out, manifest };
}
