import { cpeString } from '../../model/cpe.js';
import { qualifier, type PackageUrl } from '../../model/purl.js';
import type { Alias, Range, Vulnerability } from '../../model/vulnerability.js';
import { creatorRecords, type ProductCache } from './creator.js';
import {
  DocumentError, REPO_KEY_OCI, REPO_KEY_RPM, Ranger, UPDATER, cut, floodRange, moduleName, normalizedSeverity, packageName, vector,
} from './fields.js';
import { goPathBase } from './mirror.js';
import { CLAIRCORE_BASE_URL, type VexRules } from './rules.js';
import { DocIndex, archOf, dedupeKey, isSourceArch, statuses, type Status, type StatusName } from './status.js';
import { utcInstant, type Csaf, type Vulnerability as CsafVulnerability } from './upstream.js';

export { DocumentError, UPDATER, parseRhctag } from './fields.js';

/**
 * One CSAF VEX document → its Vulnerability records (claircore rhel/vex/parser.go;
 * spec clair-updaters.md §4.5–4.10). Version-dependent choices come from `rules`; rules with
 * `resolution: 'creator'` (claircore v1.5.48) are handled by creator.ts.
 */
const SPACE_REDHAT = 'https://access.redhat.com/security/cve/';

export interface DocumentResult {
  /** document.tracking.id */
  name: string;
  /** tracking.status is `deleted`. */
  deleted: boolean;
  records: Vulnerability[];
}

export interface ConvertOptions {
  rules: VexRules;
  ignoreKernelPackages?: boolean;
  /**
   * `creator` rules: claircore's product cache, shared by every document of one update (one
   * DeltaParse). Without it each document gets its own.
   */
  productCache?: ProductCache;
}

export function convertDocument(doc: Csaf, opts: ConvertOptions): DocumentResult {
  const name = doc.document.tracking.id;
  if (doc.document.tracking.status === 'deleted') return { name, deleted: true, records: [] };
  if (opts.rules.resolution === 'creator') return { name, deleted: false, records: creatorRecords(doc, opts.rules, opts.productCache ?? new Map()) };
  const idx = new DocIndex(doc, opts.rules);
  const docLink = documentLink(doc, name, opts.rules);
  const skip = new Set<string>();
  const records: Vulnerability[] = [];
  const ctx = { idx, skip, opts };
  for (const v of doc.vulnerabilities) {
    const base = commonFields(name, v, docLink, opts.rules);
    records.push(...fixedRecords(ctx, v, base), ...knownAffectedRecords(ctx, v, base));
    if (opts.rules.knownNotAffected) records.push(...knownNotAffectedRecords(ctx, v, base));
  }
  return { name, deleted: false, records };
}

interface Ctx {
  idx: DocIndex;
  skip: Set<string>;
  opts: ConvertOptions;
}

function entries(ctx: Ctx, v: CsafVulnerability, which: StatusName): Generator<Status> {
  return statuses(ctx.idx, v, which, ctx.skip, ctx.opts.rules, ctx.opts.ignoreKernelPackages ?? false);
}

function documentLink(doc: Csaf, name: string, rules: VexRules): string {
  let link = '';
  for (const r of doc.document.references) if (r.category === 'self') link = r.url;
  if (link !== '' || rules.missingSelfLink !== 'synthesize') return link;
  const lower = name.toLowerCase();
  const parts = lower.split('-');
  if (parts.length < 3 || parts[0] !== 'cve') return '';
  return new URL(`${encodeURIComponent(parts[1])}/${encodeURIComponent(lower)}.json`, CLAIRCORE_BASE_URL).href;
}

// ---- common fields (initVuln) ---------------------------------------------------------

function commonFields(name: string, v: CsafVulnerability, docLink: string, rules: VexRules): Vulnerability {
  const [space, id] = cut(v.cve, '-');
  if (id === undefined || space !== 'CVE') throw new DocumentError(name, `vex: malformed CVE ID: ${JSON.stringify(v.cve)}`);
  const aliases: Alias[] = [{ space: 'CVE', name: id }];
  let self: Alias | null = null;
  const links: string[] = [];
  for (const r of v.references) {
    links.push(r.url);
    if (r.category === 'self') self = { space: SPACE_REDHAT, name: v.cve };
    if (r.category === 'external') aliases.push(...externalAliases(r.url));
  }
  if (docLink !== '' || rules.missingSelfLink === 'empty') links.push(docLink);
  let description = '';
  for (const n of v.notes) if (n.category === 'description') description = n.text;
  const base: Vulnerability = {
    updater: UPDATER, name, description, issued: utcInstant(v.release_date), links: links.join(' '),
    severity: 'Unknown', normalizedSeverity: 'Unknown', package: null, dist: null, repo: null,
    fixedInVersion: '', archOperation: 'invalid', range: null,
  };
  if (rules.aliases) Object.assign(base, { self, aliases });
  return base;
}

function externalAliases(url: string): Alias[] {
  if (url.startsWith('https://bugzilla.redhat.com/')) {
    const at = url.indexOf('id=');
    return at === -1 ? [] : [{ space: 'RHBZ', name: url.slice(at + 3) }];
  }
  if (url.startsWith('https://pkg.go.dev/vuln/')) {
    const [ns, id] = cut(goPathBase(url), '-');
    return ns === 'GO' && id !== undefined ? [{ space: 'GO', name: id }] : [];
  }
  return [];
}

// ---- per-entry helpers ----------------------------------------------------------------

/** extractFixedInVersion; undefined for an OCI purl without a tag. */
function fixedInVersion(p: PackageUrl): string | undefined {
  if (p.type === 'oci') return qualifier(p, 'tag');
  if (p.version === '') return '';
  return `${qualifier(p, 'epoch') ?? '0'}:${p.version}`;
}

function repoFor(st: Status) {
  return { name: cpeString(st.wfn), key: st.purl.type === 'oci' ? REPO_KEY_OCI : REPO_KEY_RPM, uri: '' };
}

function appendArch(rec: Vulnerability, st: Status): void {
  const a = archOf(st.purl);
  if (a === '' || !rec.package) return;
  if (rec.package.arch === '') {
    rec.package.arch = a;
    rec.archOperation = 'pattern match';
  } else {
    rec.package.arch += '|' + a;
  }
}

function withRemediation(links: string, st: Status): string {
  return st.remediation ? `${links} ${st.remediation.url}` : links;
}

// ---- statuses -------------------------------------------------------------------------

function fixedRecords(ctx: Ctx, v: CsafVulnerability, base: Vulnerability): Vulnerability[] {
  const byKey = new Map<string, Vulnerability>();
  const ranger = new Ranger();
  for (const st of entries(ctx, v, 'fixed')) {
    if (ctx.opts.rules.dropSourceArch && isSourceArch(st.purl)) continue;
    const key = dedupeKey(st);
    let rec = byKey.get(key);
    if (!rec) {
      rec = createFixed(st, base, ranger);
      if (!rec) continue;
      byKey.set(key, rec);
    }
    appendArch(rec, st);
  }
  ranger.resetLowest();
  return [...byKey.values()];
}

function createFixed(st: Status, base: Vulnerability, ranger: Ranger): Vulnerability | undefined {
  const fixedIn = fixedInVersion(st.purl);
  const name = packageName(st.purl);
  const module = moduleName(st.purl);
  const sev = vector(st.score);
  if (fixedIn === undefined || name === undefined || module === undefined || sev === undefined) return undefined;
  let range: Range | null = null;
  if (st.purl.type === 'oci') {
    const r = ranger.add(st.purl.name, fixedIn);
    if (!r) return undefined;
    range = r;
  }
  return {
    ...base, fixedInVersion: fixedIn, severity: sev, normalizedSeverity: normalizedSeverity(st.threat?.details),
    package: { name, version: '', module, arch: '', kind: 'binary' },
    repo: repoFor(st), range, links: withRemediation(base.links, st),
  };
}

function knownAffectedRecords(ctx: Ctx, v: CsafVulnerability, base: Vulnerability): Vulnerability[] {
  const out: Vulnerability[] = [];
  for (const st of entries(ctx, v, 'known_affected')) {
    const name = packageName(st.purl);
    const module = moduleName(st.purl);
    const sev = st.score ? vector(st.score) : '';
    if (name === undefined || module === undefined || sev === undefined) continue;
    out.push({
      ...base, severity: sev, normalizedSeverity: normalizedSeverity(st.threat?.details),
      package: { name, version: '', module, arch: '', kind: 'source' },
      repo: repoFor(st), range: st.purl.type === 'oci' ? floodRange() : null,
    });
  }
  return out;
}

function knownNotAffectedRecords(ctx: Ctx, v: CsafVulnerability, base: Vulnerability): Vulnerability[] {
  const byKey = new Map<string, Vulnerability>();
  for (const st of entries(ctx, v, 'known_not_affected')) {
    if (ctx.opts.rules.dropSourceArch && isSourceArch(st.purl)) continue;
    const key = dedupeKey(st);
    let rec = byKey.get(key);
    if (!rec) {
      rec = createNotAffected(st, base);
      if (!rec) continue;
      byKey.set(key, rec);
    }
    appendArch(rec, st);
  }
  return [...byKey.values()];
}

function createNotAffected(st: Status, base: Vulnerability): Vulnerability | undefined {
  const name = packageName(st.purl);
  const module = moduleName(st.purl);
  const sev = st.score ? vector(st.score) : 'Unknown';
  if (name === undefined || module === undefined || sev === undefined) return undefined;
  const oci = st.purl.type === 'oci';
  return {
    ...base, invert: true, severity: sev, normalizedSeverity: normalizedSeverity(st.threat?.details),
    package: { name, version: '', module, arch: '', kind: oci ? 'ancestry' : 'binary' },
    repo: repoFor(st), range: oci ? floodRange() : null, links: withRemediation(base.links, st),
  };
}
