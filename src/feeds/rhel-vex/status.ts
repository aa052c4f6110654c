import { CpeError, unbindCpe, type Wfn } from '../../model/cpe.js';
import { PurlError, qualifier, type PackageUrl } from '../../model/purl.js';
import { parsePurlFor } from './purl-v013.js';
import { ALLOWED_KERNEL_PACKAGES, type VexRules } from './rules.js';
import type { Csaf, Product, ProductBranch, Relationship, Remediation, Score, Threat, Vulnerability } from './upstream.js';

/**
 * Per-document indexes and product-status resolution (claircore rhel/vex/index.go and
 * `creator.Status`; spec clair-updaters.md §4.5). Everything here lives for one document.
 */
export type StatusName = 'fixed' | 'known_affected' | 'known_not_affected';

/** One usable product-status entry. */
export interface Status {
  id: string;
  purl: PackageUrl;
  wfn: Wfn;
  score: Score | undefined;
  threat: Threat | undefined;
  remediation: Remediation | undefined;
}

/** A CPE or purl helper that does not parse: claircore aborts the whole update. */
export class HelperError extends Error {
  constructor(readonly productId: string, readonly helper: 'cpe' | 'purl', readonly value: string, cause: Error) {
    super(`product ${productId}: bad ${helper} ${JSON.stringify(value)}: ${cause.message}`, { cause });
  }
}

export class DocIndex {
  readonly products = new Map<string, Product>();
  readonly relationships = new Map<string, Relationship>();
  readonly scores = new Map<string, Score>();
  readonly threats = new Map<string, Threat>();
  readonly remediations = new Map<string, Remediation>();

  constructor(doc: Csaf, rules: Pick<VexRules, 'lookup' | 'remediation'>) {
    this.indexProducts(doc.product_tree);
    for (const r of doc.product_tree.relationships) {
      if (r.category === 'default_component_of') this.relationships.set(r.full_product_name.product_id, r);
    }
    const put = <T>(m: Map<string, T>, id: string, x: T) => {
      if (rules.lookup === 'last' || !m.has(id)) m.set(id, x);
    };
    for (const v of doc.vulnerabilities) {
      for (const s of v.scores) for (const id of s.products) put(this.scores, id, s);
      for (const t of v.threats) {
        if (t.category === 'impact') for (const id of t.product_ids) put(this.threats, id, t);
      }
      for (const r of v.remediations) {
        if (rules.remediation === 'vendor_fix' && r.category !== 'vendor_fix') continue;
        for (const id of r.product_ids) if (!this.remediations.has(id)) this.remediations.set(id, r);
      }
    }
  }

  /** Every branch's product, the root included (claircore walks from the tree itself). */
  private indexProducts(root: ProductBranch): void {
    const stack = [root];
    while (stack.length > 0) {
      const b = stack.pop()!;
      this.products.set(b.product.product_id, b.product);
      for (let i = b.branches.length - 1; i >= 0; i--) stack.push(b.branches[i]);
    }
  }

  /** Follows default_component_of relationships from `start` for at most 5 hops. */
  follow(start: string, next: (r: Relationship) => string): string {
    let id = start;
    for (let depth = 0; depth < 5; depth++) {
      const r = this.relationships.get(id);
      if (!r) break;
      id = next(r);
    }
    return id;
  }
}

/** Resolves the entries of one status, sharing `skip` across the statuses of a document. */
export function* statuses(
  idx: DocIndex, v: Vulnerability, which: StatusName, skip: Set<string>, rules: VexRules, ignoreKernel: boolean,
): Generator<Status> {
  for (const id of v.product_status[which] ?? []) {
    if (skip.has(id)) continue;
    const rel = idx.relationships.get(id);
    if (!rel) {
      skip.add(id);
      continue;
    }
    const pkgId = idx.follow(rel.product_reference, (r) => r.product_reference);
    const repoId = idx.follow(rel.relates_to_product_reference, (r) => r.relates_to_product_reference);
    if (skip.has(pkgId) || skip.has(repoId)) continue;
    const pkg = idx.products.get(pkgId);
    const repo = idx.products.get(repoId);
    if (!pkg || !repo) {
      if (!pkg) skip.add(pkgId);
      if (!repo) skip.add(repoId);
      continue;
    }
    const wfn = helper(repo, 'cpe', id, rules.cpePreEscape ? (s) => unbindCpe(escapeCpe(s)) : unbindCpe);
    const purl = helper(pkg, 'purl', id, (s) => parsePurlFor(rules.purl, s));
    if (!purl || !wfn) {
      if (!purl) skip.add(pkgId);
      if (!wfn) skip.add(repoId);
      continue;
    }
    if (!usablePurl(purl, rules, ignoreKernel)) continue;
    const score = idx.scores.get(id);
    const threat = idx.threats.get(id);
    if (!threat && score && baseScore(score) === 0) continue;
    yield {
      id,
      purl: which === 'known_not_affected' ? withoutVersion(purl) : purl,
      wfn,
      score,
      threat,
      remediation: idx.remediations.get(id),
    };
  }
}

function helper<T>(p: Product, kind: 'cpe' | 'purl', statusId: string, parse: (s: string) => T): T | undefined {
  if (!Object.hasOwn(p.helper, kind)) return undefined;
  const value = p.helper[kind];
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof CpeError || err instanceof PurlError) throw new HelperError(statusId, kind, value, err);
    throw err;
  }
}

/** escapeCPE (claircore up to v1.5.52): per `:` component, a trailing `*` → `%02`, every `?` → `%01`. */
export function escapeCpe(s: string): string {
  return s
    .split(':')
    .map((c) => (c.endsWith('*') ? c.slice(0, -1) + '%02' : c).replaceAll('?', '%01'))
    .join(':');
}

/** checkPURL: rpm or oci, kernel rule, rpm namespace `redhat`. */
export function usablePurl(p: PackageUrl, rules: VexRules, ignoreKernel: boolean): boolean {
  if (p.type !== 'rpm' && p.type !== 'oci') return false;
  if (p.name.startsWith('kernel')) {
    if (rules.kernel === 'drop-all' || ignoreKernel || !ALLOWED_KERNEL_PACKAGES.has(p.name)) return false;
  }
  return p.type !== 'rpm' || p.namespace === 'redhat';
}

/** v4, else v3, else v2 base score; 0 without any. */
function baseScore(s: Score): number {
  return (s.cvss_v4 ?? s.cvss_v3 ?? s.cvss_v2)?.baseScore ?? 0;
}

/** known_not_affected fixup: no version, no `epoch` or `tag` qualifier. */
function withoutVersion(p: PackageUrl): PackageUrl {
  return { ...p, version: '', qualifiers: p.qualifiers.filter((q) => q.key !== 'epoch' && q.key !== 'tag') };
}

/** The purl `arch` qualifier with amd64/x86_64 folded into `amd64|x86_64`. */
export function archOf(p: PackageUrl): string {
  const a = qualifier(p, 'arch') ?? '';
  return a === 'amd64' || a === 'x86_64' ? 'amd64|x86_64' : a;
}

export function isSourceArch(p: PackageUrl): boolean {
  const a = qualifier(p, 'arch');
  return a === 'src' || a === 'nosrc';
}

/**
 * status.Key(): purl type, name, namespace, subpath, version unless OCI, every qualifier but
 * `arch`, then every CPE attribute's kind and value (unset ≠ ANY here).
 */
export function dedupeKey(st: Status): string {
  const p = st.purl;
  const parts = [p.type, p.name, p.namespace, p.subpath, p.type === 'oci' ? '' : p.version];
  for (const q of p.qualifiers) if (q.key !== 'arch') parts.push(q.key, q.value);
  for (const a of st.wfn.attr) parts.push(a.kind, a.v);
  return parts.join('\0');
}
