import type { ArchOperation, Package, Vulnerability } from '../../model/vulnerability.js';
import type { OvalCriteria, OvalCriterion, OvalDefinition, OvalOpValue, OvalTables } from './document.js';

/**
 * claircore's pkg/ovalutil helpers over the streamed document (spec clair-updaters.md §3):
 * `ovalLinks`, the criteria walk, and the per-definition record builders for dpkg (Ubuntu)
 * and rpm (Oracle, SUSE, Photon) definitions. They work on one definition at a time.
 */

/** The record a feed builds from a definition before package data is filled in. */
export type ProtoVulnerability = Omit<Vulnerability, 'package' | 'fixedInVersion' | 'archOperation'>;

/** §3.1 Links(def): reference URLs, advisory refs, bugs, CVE hrefs; empties and repeats dropped. */
export function ovalLinks(def: OvalDefinition): string {
  const all = [
    ...def.references.map((r) => r.refUrl),
    ...def.advisory.refs,
    ...def.advisory.bugs,
    ...def.advisory.cves.map((c) => c.href),
  ];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of all) {
    if (l === '' || seen.has(l)) continue;
    seen.add(l);
    out.push(l);
  }
  return out.join(' ');
}

/** §3.2 walkCriterion: child criteria first (depth first), then this node's criterions. */
export function walkCriteria(node: OvalCriteria, out: OvalCriterion[] = []): OvalCriterion[] {
  for (const c of node.criterias) walkCriteria(c, out);
  out.push(...node.criterions);
  return out;
}

/** claircore mapArchOp: only equals, not equals and pattern match map; anything else is `invalid`. */
export function archOperation(op: string): ArchOperation {
  return op === 'equals' || op === 'not equals' || op === 'pattern match' ? op : 'invalid';
}

/** Test → first object → first state, when they have the kinds given; undefined means "skip". */
function resolve(tables: OvalTables, testRef: string, prefix: 'dpkginfo' | 'rpminfo') {
  const test = tables.tests.get(testRef);
  if (!test || test.kind !== `${prefix}_test` || test.objectRefs.length === 0) return undefined;
  const object = tables.objects.get(test.objectRefs[0]);
  if (!object || object.kind !== `${prefix}_object`) return undefined;
  let state: { evr: OvalOpValue; arch: OvalOpValue | null } | null = null;
  if (test.stateRefs.length > 0) {
    const s = tables.states.get(test.stateRefs[0]);
    if (!s || s.kind !== `${prefix}_state`) return undefined;
    // No <evr>: not a package version check (signature key, release installed, …).
    if (!s.evr) return undefined;
    state = { evr: s.evr, arch: s.arch };
  }
  return { object, state };
}

/** claircore's validVersion: a permissive Debian version check on the trimmed `<evr>`. */
const VALID_DEB_VERSION = /^([0-9]+:)?[-_A-Za-z0-9.+:~]+(-[A-Za-z0-9+.~]+)?$/;

/** Expands a dpkginfo_object's `<name>` into package names (Ubuntu: the variable's values). */
export type NameExpansion = (name: { varRef: string; body: string }) => string[];

/**
 * §3.4 DpkgDefsToVulns for one definition: one record per proto × dpkginfo criterion ×
 * expanded name. A name whose trimmed `<evr>` is not a plausible Debian version is dropped.
 */
export function* dpkgDefinitionRecords(
  def: OvalDefinition, tables: OvalTables, protos: readonly ProtoVulnerability[], expand: NameExpansion,
): Generator<Vulnerability> {
  for (const criterion of walkCriteria(def.criteria)) {
    const r = resolve(tables, criterion.testRef, 'dpkginfo');
    if (!r || !r.object.name) continue;
    for (const proto of protos) {
      for (const n of expand(r.object.name)) {
        let fixedInVersion = '';
        let archOp: ArchOperation = 'invalid';
        let arch = '';
        if (r.state) {
          if (!VALID_DEB_VERSION.test(r.state.evr.body.trim())) continue;
          fixedInVersion = r.state.evr.body;
          if (r.state.arch) {
            archOp = archOperation(r.state.arch.operation);
            arch = r.state.arch.body;
          }
        }
        const pkg: Package = { name: n, version: '', module: '', arch, kind: 'binary' };
        yield { ...proto, package: pkg, fixedInVersion, archOperation: archOp };
      }
    }
  }
}

const MODULE_COMMENT = /(Module )(.*)( is enabled)/;

/**
 * §3.3 RPMDefsToVulns for one definition: one record per enabled module × proto × rpminfo
 * criterion with a versioned state (or no state).
 */
export function* rpmDefinitionRecords(def: OvalDefinition, tables: OvalTables, protos: readonly ProtoVulnerability[]): Generator<Vulnerability> {
  const criterions = walkCriteria(def.criteria);
  const modules = criterions.map((c) => MODULE_COMMENT.exec(c.comment)?.[2] ?? '').filter((m) => m !== '');
  if (modules.length === 0) modules.push('');
  for (const criterion of criterions) {
    const r = resolve(tables, criterion.testRef, 'rpminfo');
    if (!r) continue;
    const name = r.object.name?.body ?? '';
    for (const module of modules) {
      for (const proto of protos) {
        const pkg: Package = { name, version: '', module, arch: '', kind: 'binary' };
        let fixedInVersion = '';
        let archOp: ArchOperation = 'invalid';
        if (r.state) {
          fixedInVersion = r.state.evr.body;
          if (r.state.arch) {
            archOp = archOperation(r.state.arch.operation);
            pkg.arch = r.state.arch.body;
          }
        }
        yield { ...proto, package: pkg, fixedInVersion, archOperation: archOp };
      }
    }
  }
}
