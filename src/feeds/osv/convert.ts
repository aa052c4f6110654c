import { version } from '../../model/version.js';
import type { Alias, NormalizedSeverity, Range, Version, Vulnerability } from '../../model/vulnerability.js';
import { cvssSeverity, type CvssType } from './cvss.js';
import type { OsvRules } from './rules.js';
import { fromSemver, incPatch, parseSemver } from './semver.js';
import type { OsvAdvisory } from './upstream.js';

/**
 * One OSV advisory → records, as claircore's updater/osv ecs.Insert builds them (spec
 * clair-updaters.md §9), including its object sharing: a range object is shared by every
 * record emitted for it and mutated by later events of the same range, so records are emitted
 * after a range's events have all been seen.
 */
export class OsvAbort extends Error {}

const ALIAS_BASE_URL = 'https://osv.dev/vulnerability/';
const BINARY_ECOSYSTEMS = new Set(['Go', 'Maven', 'npm', 'PyPI', 'RubyGems']);
const QUERY_ECOSYSTEMS = new Set(['Maven', 'PyPI', 'RubyGems']);
const REPO_URIS: Record<string, string> = {
  'crates.io': 'https://crates.io/',
  go: 'https://pkg.go.dev/',
  npm: 'https://www.npmjs.com/',
  nuget: 'https://www.nuget.org/packages/',
  'oss-fuzz': 'https://google.github.io/oss-fuzz/',
  packagist: 'https://packagist.org/',
  pypi: 'https://pypi.org/',
  rubygems: 'https://rubygems.org/gems/',
  maven: 'https://repo1.maven.apache.org/maven2',
};

/** claircore/HEAD normalizeEcosystem: lowercased, cut at the first `:`. */
export function normalizeEcosystem(e: string): string {
  const l = e.toLowerCase();
  const i = l.indexOf(':');
  return i === -1 ? l : l.slice(0, i);
}

/** idToAlias: split at the first `-`; undefined when there is none. */
export function idToAlias(id: string): Alias | undefined {
  const i = id.indexOf('-');
  return i === -1 ? undefined : { space: id.slice(0, i), name: id.slice(i + 1) };
}

/** severityFromDBString. */
export function severityFromDBString(s: string): NormalizedSeverity {
  switch (s.toLowerCase()) {
    case 'negligible': return 'Negligible';
    case 'low': return 'Low';
    case 'moderate': case 'medium': return 'Medium';
    case 'high': return 'High';
    case 'critical': return 'Critical';
    default: return 'Unknown';
  }
}

/** Go url.QueryEscape. */
function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go url.Values: insertion-ordered values per key; Encode sorts keys. */
class Values {
  private readonly m = new Map<string, string[]>();
  add(k: string, v: string): void {
    const l = this.m.get(k);
    if (l) l.push(v);
    else this.m.set(k, [v]);
  }
  get size(): number {
    return this.m.size;
  }
  encode(): string {
    const keys = [...this.m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return keys.flatMap((k) => this.m.get(k)!.map((v) => `${queryEscape(k)}=${queryEscape(v)}`)).join('&');
  }
}

interface MutableVersion {
  kind: string;
  v: number[];
}

interface RangeVer {
  fixedInVersion: string;
  range: { lower: MutableVersion; upper: MutableVersion } | null;
  values: Values | null;
}

const zeroVersion = (): MutableVersion => ({ kind: '', v: new Array<number>(10).fill(0) });
const zeroRange = () => ({ lower: zeroVersion(), upper: zeroVersion() });
const assign = (dst: MutableVersion, src: Version) => {
  dst.kind = src.kind;
  dst.v = [...src.v];
};

function compareVersions(a: MutableVersion, b: MutableVersion): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  for (let i = 0; i < 10; i++) {
    if (a.v[i] !== b.v[i]) return a.v[i] > b.v[i] ? 1 : -1;
  }
  return 0;
}

function gitOnly(a: OsvAdvisory): boolean {
  if (a.affected.length === 0) return false;
  return a.affected.every((af) => af.ranges.every((r) => r.type === 'GIT'));
}

export interface AdvisoryContext {
  /** The dump's normalised (lowercased) ecosystem. */
  ecosystem: string;
  updater: string;
  rules: OsvRules;
}

/**
 * The records of one advisory (already past the withdrawn / no-affected checks). Throws
 * OsvAbort where claircore's parse would fail as a whole.
 */
export function advisoryRecords(a: OsvAdvisory, ctx: AdvisoryContext): Vulnerability[] {
  if (gitOnly(a)) return [];
  let self: Alias | null | undefined;
  if (ctx.rules.aliases) {
    self = idToAlias(a.id);
    if (!self) throw new OsvAbort(`osv: invalid identifier: ${JSON.stringify(a.id)}`);
  }
  let severity = '';
  let normalized: NormalizedSeverity = 'Unknown';
  for (const s of a.severity) {
    if (s.type !== 'CVSS_V4' && s.type !== 'CVSS_V3' && s.type !== 'CVSS_V2') continue;
    severity = s.score;
    const q = cvssSeverity(s.type as CvssType, s.score);
    if (q !== undefined) normalized = q;
  }
  if (severity === '') {
    const db = a.databaseSpecific;
    if (db !== undefined && db !== null && typeof db === 'object' && !Array.isArray(db)) {
      const sev = (db as Record<string, unknown>).severity;
      if (typeof sev === 'string' || sev === null) {
        severity = sev ?? '';
        normalized = severityFromDBString(severity);
      }
    }
  }
  let links = a.references.map((r) => r.url).join(' ');
  const aliases: Alias[] = [];
  for (let i = 0; i < a.aliases.length; i++) {
    const alias = a.aliases[i];
    if (i !== 0 || links.length > 0) links += ' ';
    links += ALIAS_BASE_URL + alias;
    if (ctx.rules.aliases) {
      const aka = idToAlias(alias);
      if (!aka) return []; // a malformed alias drops the advisory
      aliases.push(aka);
    }
  }
  const proto: Omit<Vulnerability, 'package' | 'range' | 'fixedInVersion'> = {
    updater: ctx.updater, name: a.id, description: a.summary, issued: a.published, links, severity,
    normalizedSeverity: normalized, dist: null, repo: null, archOperation: 'invalid',
    ...(ctx.rules.aliases ? { self, aliases } : {}),
  };
  const out: Vulnerability[] = [];
  for (const af of a.affected) {
    const eco = af.package.ecosystem;
    if (ctx.rules.filterAffectedEcosystem && normalizeEcosystem(eco) !== ctx.ecosystem) continue;
    for (const r of af.ranges) {
      if (r.type === 'GIT') continue;
      if (r.type === 'ECOSYSTEM' && (eco === 'Go' || eco === 'npm') && ctx.rules.goNpmEcosystemRange === 'skip') continue;
      const vers: RangeVer[] = [];
      let vs: RangeVer = { fixedInVersion: '', range: zeroRange(), values: new Values() };
      let seenIntroduced = false;
      r.events.forEach((ev, ie) => {
        const last = ie === r.events.length - 1;
        if (r.type === 'SEMVER') {
          const range = vs.range!;
          if (ev.introduced !== '') {
            if (seenIntroduced) {
              vs = { fixedInVersion: '', range: zeroRange(), values: null };
            }
            seenIntroduced = true;
            if (ev.introduced === '0') {
              vs.range!.lower.kind = 'semver';
            } else {
              const ver = parseSemver(ev.introduced);
              if (ver) assign(vs.range!.lower, fromSemver(ver));
            }
            if (last) vers.push(vs);
            return;
          } else if (ev.fixed !== '') {
            const ver = parseSemver(ev.fixed);
            if (ver) {
              assign(range.upper, fromSemver(ver));
              vs.fixedInVersion = ver.original;
            }
          } else if (ev.lastAffected !== '' && af.versions.length !== 0) {
            // claircore only logs this case.
          } else if (ev.lastAffected !== '') {
            const ver = parseSemver(ev.lastAffected);
            if (ver) assign(range.upper, fromSemver(incPatch(ver)));
          } else if (ev.limit === '*') {
            range.upper.kind = 'semver';
            range.upper.v[0] = 65535;
          }
        } else if (r.type === 'ECOSYSTEM') {
          if (QUERY_ECOSYSTEMS.has(eco)) {
            vs.range = null;
            if (ev.introduced !== '') {
              if (seenIntroduced) vs = { fixedInVersion: '', range: null, values: new Values() };
              seenIntroduced = true;
              if (ev.introduced !== '0') vs.values!.add('introduced', ev.introduced);
              if (last) vers.push(vs);
              return;
            } else if (ev.fixed !== '') {
              vs.values!.add('fixed', ev.fixed);
            } else if (ev.lastAffected !== '') {
              vs.values!.add('lastAffected', ev.lastAffected);
            }
          } else if (eco === 'Go' || eco === 'npm') {
            throw new OsvAbort(`unexpected "ECOSYSTEM" entry for ${JSON.stringify(eco)} ecosystem: ${a.id}`);
          } else if (ev.introduced === '' && ev.fixed !== '') {
            vs.fixedInVersion = ev.fixed;
          }
        }
        vers.push(vs);
      });
      for (const ve of vers) {
        let fixedInVersion = ve.fixedInVersion;
        if (ve.values && ve.values.size > 0 && QUERY_ECOSYSTEMS.has(eco)) fixedInVersion = ve.values.encode();
        const rg = ve.range;
        if (rg) {
          if (rg.upper.kind === '') {
            rg.upper.kind = rg.lower.kind;
            rg.upper.v[0] = 65535;
          }
          if (compareVersions(rg.lower, rg.upper) === 1) continue;
        }
        const name = BINARY_ECOSYSTEMS.has(eco) ? af.package.name : af.package.purl;
        out.push({
          ...proto,
          fixedInVersion,
          range: rg ? freezeRange(rg) : null,
          package: { name, version: '', module: '', arch: '', kind: BINARY_ECOSYSTEMS.has(eco) ? 'binary' : '' },
          repo: { name: ctx.ecosystem, key: '', uri: REPO_URIS[ctx.ecosystem] ?? '' },
        });
      }
    }
  }
  return out;
}

/** A snapshot of the (shared, already normalised) range object. */
function freezeRange(rg: { lower: MutableVersion; upper: MutableVersion }): Range {
  return { lower: version(rg.lower.kind, rg.lower.v), upper: version(rg.upper.kind, rg.upper.v) };
}
