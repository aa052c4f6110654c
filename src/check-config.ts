import { readFile } from 'node:fs/promises';
import { Document, parse, parseDocument } from 'yaml';
import { ConfigError } from './errors.js';

/**
 * Lints a Clair config for a disconnected cluster: settings that make Clair reach the internet,
 * or log futile errors every period (clair-matcher-db.md §7).
 */
export interface Finding {
  /** YAML path, e.g. `matcher.disable_updaters`. */
  path: string;
  problem: string;
  /** The value to set. */
  fix: unknown;
}

const PUBLIC_MAPPING_HOSTS = /^https?:\/\/(security\.access\.redhat\.com|access\.redhat\.com|www\.redhat\.com)\b/i;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

function mappingFindings(block: Obj, base: string, fileKey: string, urlKey: string, what: string, suggestedUrl: string): Finding[] {
  const file = block[fileKey];
  const url = block[urlKey];
  if (typeof file === 'string' && file !== '') return [];
  if (typeof url === 'string' && url !== '' && !PUBLIC_MAPPING_HOSTS.test(url)) return [];
  return [{
    path: `${base}.${urlKey}`,
    problem: typeof url === 'string' && url !== ''
      ? `${urlKey} points at ${url}, which a disconnected cluster cannot reach: ${what} fail and RHEL images get no vulnerabilities`
      : `neither ${fileKey} nor ${urlKey} is set: the indexer fetches ${what} from Red Hat, fails offline, and every index report of a RHEL image fails`,
    fix: suggestedUrl,
  }];
}

export function lintClairConfig(doc: unknown, mappingsBaseUrl = 'http://clair-bundle-mappings:8080'): Finding[] {
  const root = obj(doc);
  const matcher = obj(root.matcher);
  const indexer = obj(root.indexer);
  const updaters = obj(root.updaters);
  const findings: Finding[] = [];
  const setsEmpty = Array.isArray(updaters.sets) && updaters.sets.length === 0;
  if (matcher.disable_updaters !== true && !setsEmpty) {
    findings.push({
      path: 'matcher.disable_updaters',
      problem: "Clair's own updaters are on: every period each one tries the internet and logs errors (and its update operations would compete with the bundle's)",
      fix: true,
    });
  }
  if (indexer.airgap !== true) {
    findings.push({ path: 'indexer.airgap', problem: 'airgap is off: the indexer may try to reach public addresses (and wait for timeouts)', fix: true });
  }
  const scanner = obj(indexer.scanner);
  const repoScanner = obj(obj(scanner.repo)['rhel-repository-scanner']);
  findings.push(...mappingFindings(repoScanner, 'indexer.scanner.repo.rhel-repository-scanner', 'repo2cpe_mapping_file', 'repo2cpe_mapping_url',
    'repository-to-cpe.json', `${mappingsBaseUrl}/repository-to-cpe.json`));
  const rhcc = obj(obj(scanner.package).rhel_containerscanner);
  findings.push(...mappingFindings(rhcc, 'indexer.scanner.package.rhel_containerscanner', 'name2repos_mapping_file', 'name2repos_mapping_url',
    'container-name-repos-map.json', `${mappingsBaseUrl}/container-name-repos-map.json`));
  const java = obj(obj(scanner.package).java);
  if (java.disable_api !== true) {
    findings.push({ path: 'indexer.scanner.package.java.disable_api', problem: 'the Java scanner asks search.maven.org about every jar without pom.properties and logs an error each time offline', fix: true });
  }
  if (typeof matcher.update_retention === 'number' && matcher.update_retention < 0) {
    findings.push({ path: 'matcher.update_retention', problem: 'a negative retention disables garbage collection: every bundle load adds update operations that are never removed', fix: 10 });
  }
  return findings;
}

/** The config with every finding fixed, as YAML (comments of the original are kept). */
export function fixedConfig(text: string, findings: readonly Finding[]): string {
  const doc: Document = parseDocument(text);
  for (const f of findings) doc.setIn(f.path.split('.'), f.fix);
  return doc.toString();
}

export async function checkConfigFile(file: string): Promise<{ findings: Finding[]; fixed: string }> {
  let text: string;
  let doc: unknown;
  try {
    text = await readFile(file, 'utf8');
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`cannot read Clair config ${file}: ${(err as Error).message}`, { cause: err });
  }
  const findings = lintClairConfig(doc);
  return { findings, fixed: fixedConfig(text, findings) };
}
