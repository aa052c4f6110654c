import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { createDb, createFixtureDb } from './lib/db.js';
import { oracle, oracleJson, VERSIONS, type OracleVersion } from './lib/oracle.js';
import { diffSchemas, formatSchemaDiffs, type SchemaDump } from './lib/schema-diff.js';

/**
 * Schema conformance (strict for both claircore versions): claircore's own matcher migrations
 * (`oracle migrate`) versus our stand-in schema fixture (sql/clair-schema/*.sql), both described
 * by the same `oracle schema` catalog query.
 */
describe.each(Object.keys(VERSIONS) as OracleVersion[])('matcher schema: claircore %s vs sql/clair-schema', (version) => {
  const { schema, fixture } = VERSIONS[version];

  it(`fixture ${fixture.join(' + ')} equals claircore's migrations 1..${schema}`, async () => {
    const out = inject('conformance').outDir;
    const dbA = await createDb(`schema_cc_${version}`);
    await oracle(version, ['migrate', '--db', dbA], { logFile: path.join(out, `schema-${version}-migrate.log`) });
    const dbB = await createFixtureDb(`schema_fixture_${version}`, fixture);
    const a = await oracleJson<SchemaDump>(version, ['schema', '--db', dbA]);
    const b = await oracleJson<SchemaDump>(version, ['schema', '--db', dbB]);
    await writeFile(path.join(out, `schema-${version}-claircore.json`), JSON.stringify(a, null, 2));
    await writeFile(path.join(out, `schema-${version}-fixture.json`), JSON.stringify(b, null, 2));

    expect(Math.max(...a.libvuln_migrations), `oracle-${version} migrates to schema ${schema}`).toBe(schema);
    const diffs = diffSchemas(a, b, { dataOnlyMigrations: [20] });
    const report = `schema ${schema} (claircore ${version}) vs ${fixture.join(' + ')}: ${diffs.length} difference(s)\n${formatSchemaDiffs(diffs)}`;
    await writeFile(path.join(out, `schema-${version}.txt`), report + '\n');
    console.log(report);
    expect(diffs.length, `schema ${schema}: ${diffs.length} difference(s) between claircore ${version} and the fixture, listed above (report: ${out}/schema-${version}.txt)`).toBe(0);
  });
});
