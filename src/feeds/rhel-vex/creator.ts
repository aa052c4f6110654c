import { CpeError, cpeString, unbindCpe, type Wfn } from '../../model/cpe.js';
import { PurlError, qualifier, type PackageUrl } from '../../model/purl.js';
import type { Repository, Vulnerability } from '../../model/vulnerability.js';
import { DocumentError, REPO_KEY_OCI, REPO_KEY_RPM, Ranger, UPDATER, moduleName, normalizedSeverity, packageName, vector } from './fields.js';
import { parsePurlFor } from './purl-v013.js';
import type { VexRules } from './rules.js';
import { HelperError, archOf, escapeCpe, usablePurl } from './status.js';
import { utcInstant, type Csaf, type Product, type Relationship, type Remediation, type Score, type Threat, type Vulnerability as CsafVulnerability } from './upstream.js';

/**
 * `resolution: 'creator'`: claircore's rhel/vex/parser.go `creator` as of v1.5.48, the pin of
 * Clair v4.9.0 (spec clair-updaters.md §4.14 lists the same traits for v1.5.52). Per document:
 *
 * * product ids resolve by walking `default_component_of` relationships (the first matching
 *   relationship, no depth limit); a chain of 3+ components names a module product;
 * * products are found through a cache keyed by product id and shared by every document of
 *   the update, misses included (`ProductCache`);
 * * only `fixed` and `known_affected` produce records; scores, `impact` threats and remediations
 *   are the first naming the product id anywhere in the document (see `rules`);
 * * a fixed entry is keyed `repoId:module:purlName-fixedIn`; its record is committed before it
 *   is validated, so an entry dropped later (unparsable OCI tag, zero score) still leaves it;
 *   a later entry with the key and an arch appends `|arch`, one without an arch re-initializes
 *   the record (Links gain the remediation URL again);
 * * an invalid CVSS vector, a score without any vector, or a CPE that does not unbind aborts the
 *   update; a purl that does not parse only drops the entry.
 */
export type ProductCache = Map<string, Product | null>;

export function creatorRecords(doc: Csaf, rules: VexRules, products: ProductCache): Vulnerability[] {
  const name = doc.document.tracking.id;
  const c = new Creator(name, doc, rules, products);
  let selfLink = '';
  for (const r of doc.document.references) if (r.category === 'self') selfLink = r.url;
  let out: Vulnerability[] = [];
  for (const v of doc.vulnerabilities) {
    const links = v.references.map((r) => r.url);
    if (selfLink !== '' || rules.missingSelfLink === 'empty') links.push(selfLink);
    let description = '';
    for (const n of v.notes) if (n.category === 'description') description = n.text;
    const proto = (): Vulnerability => ({
      updater: UPDATER, name, description, issued: utcInstant(v.release_date), links: links.join(' '),
      severity: 'Unknown', normalizedSeverity: 'Unknown', package: null, dist: null, repo: null,
      fixedInVersion: '', archOperation: 'invalid', range: null,
    });
    // Each vulnerability replaces the document's records with every fixed record so far plus
    // its own known_affected ones.
    out = [...c.fixed(v, proto), ...c.knownAffected(v, proto)];
  }
  return out;
}

export interface Walk {
  pkg: string;
  mod: string;
  repo: string;
}

class Creator {
  private readonly relationships: ReadonlyMap<string, Relationship>;
  private readonly productsById = new Map<string, Product>();
  private readonly scores = new Map<string, Score>();
  private readonly threats = new Map<string, Threat>();
  private readonly remediations = new Map<string, Remediation>();
  /** Fixed records of the document by key, in creation order (shared by its vulnerabilities). */
  private readonly fixedByKey = new Map<string, Vulnerability>();

  constructor(private readonly name: string, doc: Csaf, private readonly rules: VexRules, private readonly cache: ProductCache) {
    this.relationships = relationshipIndex(doc);
    // FindProductByID: depth-first, the node before its branches, first match.
    const stack = [doc.product_tree];
    while (stack.length > 0) {
      const b = stack.pop()!;
      if (!this.productsById.has(b.product.product_id)) this.productsById.set(b.product.product_id, b.product);
      for (let i = b.branches.length - 1; i >= 0; i--) stack.push(b.branches[i]);
    }
    const put = <T>(m: Map<string, T>, id: string, x: T) => {
      if (rules.lookup === 'last' || !m.has(id)) m.set(id, x);
    };
    for (const v of doc.vulnerabilities) {
      for (const s of v.scores) for (const id of s.products) put(this.scores, id, s);
      for (const t of v.threats) if (t.category === 'impact') for (const id of t.product_ids) put(this.threats, id, t);
      for (const r of v.remediations) {
        if (rules.remediation === 'vendor_fix' && r.category !== 'vendor_fix') continue;
        for (const id of r.product_ids) if (!this.remediations.has(id)) this.remediations.set(id, r);
      }
    }
  }

  fixed(v: CsafVulnerability, proto: () => Vulnerability): Vulnerability[] {
    const ranger = new Ranger();
    for (const id of v.product_status.fixed ?? []) {
      const w = this.walk(id);
      if (!w) continue;
      const repoProd = this.product(w.repo);
      if (!repoProd || !Object.hasOwn(repoProd.helper, 'cpe')) continue;
      if (w.mod !== '') this.relationshipModule(w.mod, id);
      const compProd = this.product(w.pkg);
      if (!compProd || !Object.hasOwn(compProd.helper, 'purl')) continue;
      const purl = this.parsePurl(compProd.helper.purl);
      if (!purl || !usablePurl(purl, this.rules, false)) continue;
      const fixedIn = extractFixedInVersion(purl);
      const pkgName = packageName(purl);
      const mod = moduleName(purl);
      if (fixedIn === undefined || pkgName === undefined || mod === undefined) continue;
      const key = `${w.repo}:${mod}:${purl.name}-${fixedIn}`;
      const arch = archOf(purl);
      let rec = this.fixedByKey.get(key);
      if (rec && arch !== '') {
        rec.package!.arch += '|' + arch;
        continue;
      }
      if (!rec) {
        rec = proto();
        this.fixedByKey.set(key, rec);
      }
      rec.fixedInVersion = fixedIn;
      rec.package = { name: pkgName, version: '', module: mod, arch: '', kind: 'binary' };
      if (arch !== '') {
        rec.package.arch = arch;
        rec.archOperation = 'pattern match';
      }
      const wfn = this.unbind(repoProd.helper.cpe, id);
      if (purl.type === 'oci') {
        rec.repo = repo(wfn, REPO_KEY_OCI);
        rec.range = ranger.add(pkgName, fixedIn) ?? null;
        if (!rec.range) continue;
      } else {
        rec.repo = repo(wfn, REPO_KEY_RPM);
      }
      const rem = this.remediations.get(id);
      if (rem) rec.links += ' ' + rem.url;
      const sc = this.scores.get(id);
      if (sc) rec.severity = this.vector(sc, id);
      const t = this.threats.get(id);
      if (t) rec.normalizedSeverity = normalizedSeverity(t.details);
      // Without a threat, a 0.0 base score "drops" the entry, but its record is already kept.
    }
    ranger.resetLowest();
    return [...this.fixedByKey.values()];
  }

  knownAffected(v: CsafVulnerability, proto: () => Vulnerability): Vulnerability[] {
    const ranger = new Ranger();
    const out: Vulnerability[] = [];
    for (const id of v.product_status.known_affected ?? []) {
      const w = this.walk(id);
      if (!w || w.pkg.startsWith('kernel')) continue;
      const repoProd = this.product(w.repo);
      if (!repoProd || !Object.hasOwn(repoProd.helper, 'cpe')) continue;
      let mod = w.mod !== '' ? this.relationshipModule(w.mod, id) : '';
      const compProd = this.product(w.pkg);
      if (!compProd) continue;
      const rec = proto();
      const wfn = this.unbind(repoProd.helper.cpe, id);
      rec.repo = repo(wfn, REPO_KEY_RPM);
      let pkgName = w.pkg;
      if (Object.hasOwn(compProd.helper, 'purl')) {
        const purl = this.parsePurl(compProd.helper.purl);
        if (!purl || !usablePurl(purl, this.rules, false)) continue;
        pkgName = packageName(purl) ?? pkgName;
        const m = moduleName(purl);
        if (m === undefined) continue;
        mod = m;
        if (purl.type === 'oci') {
          rec.repo = repo(wfn, REPO_KEY_OCI);
          rec.range = ranger.add(pkgName, '')!;
        }
      }
      rec.package = { name: pkgName, version: '', module: mod, arch: '', kind: 'source' };
      const sc = this.scores.get(id);
      if (sc) rec.severity = this.vector(sc, id);
      const t = this.threats.get(id);
      if (t) rec.normalizedSeverity = normalizedSeverity(t.details);
      else if (sc && baseScore(sc) === 0) continue;
      out.push(rec);
    }
    ranger.resetLowest();
    return out;
  }

  private walk(id: string): Walk | undefined {
    try {
      return walkRelationships(this.relationships, id);
    } catch (err) {
      if (err instanceof RangeError) throw new DocumentError(this.name, `vex: default_component_of relationships of ${JSON.stringify(id)} form a cycle`);
      throw err;
    }
  }

  /** productCache.Get: the first document that asks for an id decides it for the whole update. */
  private product(id: string): Product | null {
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit;
    const p = this.productsById.get(id) ?? null;
    this.cache.set(id, p);
    return p;
  }

  /** createPackageModule of the module product (it must exist: claircore dereferences it). */
  private relationshipModule(modId: string, statusId: string): string {
    const p = this.product(modId);
    if (!p) throw new DocumentError(`${this.name} product ${statusId}`, `vex: module product ${JSON.stringify(modId)} is not in the product tree`);
    return packageModule(p, this.rules.purl);
  }

  private parsePurl(s: string): PackageUrl | undefined {
    try {
      return parsePurlFor(this.rules.purl, s);
    } catch (err) {
      if (err instanceof PurlError) return undefined;
      throw err;
    }
  }

  private unbind(cpe: string, statusId: string): Wfn {
    const s = this.rules.cpePreEscape ? escapeCpe(cpe) : cpe;
    try {
      return unbindCpe(s);
    } catch (err) {
      if (err instanceof CpeError) throw new HelperError(statusId, 'cpe', s, err);
      throw err;
    }
  }

  /** cvssVectorFromScore: the vector, or the update aborts. */
  private vector(sc: Score, statusId: string): string {
    const vec = vector(sc);
    if (vec === undefined) throw new DocumentError(`${this.name} product ${statusId}`, 'vex: could not parse CVSS score');
    return vec;
  }
}

/** The first `default_component_of` relationship per full product id (FindRelationship). */
export function relationshipIndex(doc: Csaf): Map<string, Relationship> {
  const m = new Map<string, Relationship>();
  for (const r of doc.product_tree.relationships) {
    const id = r.full_product_name.product_id;
    if (r.category === 'default_component_of' && !m.has(id)) m.set(id, r);
  }
  return m;
}

/**
 * walkRelationships: the package, module ('' unless the chain has 3+ components) and
 * repository product ids of a status product id; undefined without a relationship. Throws
 * RangeError on a relationship cycle (claircore recurses until its stack is exhausted).
 */
export function walkRelationships(rels: ReadonlyMap<string, Relationship>, id: string): Walk | undefined {
  const rel = rels.get(id);
  if (!rel) return undefined;
  const comps: string[] = [];
  // extractProductNames: product side leftmost, repository side rightmost.
  const collect = (prodRef: string, relatesTo: string, depth: number): void => {
    if (depth > 10_000) throw new RangeError('relationship cycle');
    for (const ref of [prodRef, relatesTo]) {
      const r = rels.get(ref);
      if (r) collect(r.product_reference, r.relates_to_product_reference, depth + 1);
      else comps.push(ref);
    }
  };
  collect(rel.product_reference, rel.relates_to_product_reference, 0);
  return comps.length === 2
    ? { pkg: comps[0], mod: '', repo: comps[1] }
    : { pkg: comps[0], mod: comps[comps.length - 2], repo: comps[comps.length - 1] };
}

/** createPackageModule (deprecated module products): `name:stream` from an rpmmod purl, '' when unusable. */
export function packageModule(p: Product, purlVersion: VexRules['purl']): string {
  if (!Object.hasOwn(p.helper, 'purl')) return '';
  let purl: PackageUrl;
  try {
    purl = parsePurlFor(purlVersion, p.helper.purl);
  } catch (err) {
    if (err instanceof PurlError) return '';
    throw err;
  }
  if (purl.type !== 'rpmmod') return '';
  if (purl.namespace === 'redhat') return `${purl.name}:${purl.version.split(':')[0]}`;
  if (purl.namespace.startsWith('redhat/')) return purl.namespace.slice(purl.namespace.indexOf('/') + 1);
  return '';
}

/** extractFixedInVersion: OCI → the tag (undefined without one); rpm → `<epoch or 0>:<version>`; else undefined. */
export function extractFixedInVersion(p: PackageUrl): string | undefined {
  if (p.type === 'oci') return qualifier(p, 'tag');
  if (p.type === 'rpm') return `${qualifier(p, 'epoch') ?? '0'}:${p.version}`;
  return undefined;
}

function repo(wfn: Wfn, key: string): Repository {
  return { name: cpeString(wfn), key, uri: '' };
}

function baseScore(s: Score): number {
  return (s.cvss_v4 ?? s.cvss_v3 ?? s.cvss_v2)?.baseScore ?? 0;
}
