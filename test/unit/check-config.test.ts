import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkConfigFile, lintClairConfig } from '../../src/check-config.js';

const dir = path.join(import.meta.dirname, 'fixtures', 'clair-config');

describe('check-config', () => {
  it('flags a Quay-operator-style config with updaters on, and the fix passes', async () => {
    const { findings, fixed } = await checkConfigFile(path.join(dir, 'quay-operator.yaml'));
    expect(findings.map((f) => f.path)).toEqual([
      'matcher.disable_updaters', 'indexer.airgap',
      'indexer.scanner.repo.rhel-repository-scanner.repo2cpe_mapping_url',
      'indexer.scanner.package.rhel_containerscanner.name2repos_mapping_url',
      'indexer.scanner.package.java.disable_api',
    ]);
    expect(fixed).toContain('# Shape of the config');
    expect(lintClairConfig(parse(fixed))).toEqual([]);
  });
  it('accepts a correct offline config', async () => {
    expect((await checkConfigFile(path.join(dir, 'offline.yaml'))).findings).toEqual([]);
  });
  it('flags mapping URLs that point at Red Hat', () => {
    const f = lintClairConfig({
      matcher: { disable_updaters: true }, indexer: { airgap: true, scanner: { package: { java: { disable_api: true }, rhel_containerscanner: { name2repos_mapping_file: '/x' } },
        repo: { 'rhel-repository-scanner': { repo2cpe_mapping_url: 'https://security.access.redhat.com/data/metrics/repository-to-cpe.json' } } } },
    });
    expect(f).toHaveLength(1);
    expect(f[0].problem).toMatch(/cannot reach/);
  });
});
