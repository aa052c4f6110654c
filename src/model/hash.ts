import { createHash } from 'node:crypto';
import { goTimeString } from './go-time.js';
import { versionArrayText } from './version.js';
import type { EnrichmentRecord, Vulnerability } from './vulnerability.js';

/** The CPE 2.3 binding of an unset CPE, which claircore hashes for an empty Dist CPE. */
export const UNSET_CPE_FS = 'cpe:2.3:*:*:*:*:*:*:*:*:*:*:*';

/** The bytes claircore's md5Vuln feeds to MD5, as a list of strings to concatenate. */
export function vulnHashParts(v: Vulnerability): string[] {
  const parts = [v.name, v.description, goTimeString(v.issued), v.links, v.severity];
  if (v.package) {
    const p = v.package;
    parts.push(p.name, p.version, p.module, p.arch, p.kind);
  }
  if (v.dist) {
    const d = v.dist;
    parts.push(d.did, d.name, d.version, d.versionCodeName, d.versionId, d.arch, d.cpe || UNSET_CPE_FS, d.prettyName);
  }
  if (v.repo) parts.push(v.repo.name, v.repo.key, v.repo.uri);
  parts.push(v.archOperation, v.fixedInVersion);
  if (v.range && v.range.lower.kind === v.range.upper.kind) {
    parts.push(v.range.lower.kind, versionArrayText(v.range.lower), versionArrayText(v.range.upper));
  }
  return parts;
}

/** claircore md5Vuln: 16 raw bytes, returned as 32 lowercase hex digits. */
export function vulnHash(v: Vulnerability): string {
  const h = createHash('md5');
  for (const part of vulnHashParts(v)) h.update(part, 'utf8');
  return h.digest('hex');
}

/** Tags sorted byte-wise, as Go's sort.Strings leaves them (and as the row stores them). */
export function sortedTags(tags: readonly string[]): string[] {
  return [...tags].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** claircore hashEnrichment: md5 over each sorted tag + NUL, then the raw JSON bytes. */
export function enrichmentHash(e: EnrichmentRecord): string {
  const h = createHash('md5');
  for (const tag of sortedTags(e.tags)) {
    h.update(tag, 'utf8');
    h.update(Buffer.of(0));
  }
  h.update(e.json, 'utf8');
  return h.digest('hex');
}
