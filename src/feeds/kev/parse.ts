import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EnrichmentRecord } from '../../model/vulnerability.js';
import { readFetchRecord } from '../fetch-record.js';
import { GoJsonReader, GoJsonSyntaxError, GoJsonTypeError, enrichmentStoreProblem, goField, goObject, goQuote } from '../go-json.js';
import type { FeedOutput, ParseContext } from '../types.js';
import { FEED, PART, feedError } from './fetch.js';

/**
 * The KEV catalog → clair.kev records, as claircore's ParseEnrichment builds them
 * (enricher/kev/kev.go, types.go): the document is decoded (Go struct rules: case-insensitive
 * keys, last duplicate wins, null leaves a field alone, any other type mismatch fails the file)
 * into Root; then per `vulnerabilities[]` entry, tags `[cveID]` and enrichment = json.Marshal of
 * Entry `{cve, vulnerability_name, catalog_version (the root's catalogVersion), date_added,
 * short_description, required_action, due_date, known_ransomware_campaign_use}`.
 */
export const UPDATER = 'clair.kev';

const VULN_FIELDS = [
  'cveID', 'vendorProject', 'product', 'vulnerabilityName', 'dateAdded', 'shortDescription',
  'requiredAction', 'dueDate', 'knownRansomwareCampaignUse', 'notes', 'cwes',
] as const;
type VulnField = (typeof VULN_FIELDS)[number];
type Vuln = Record<Exclude<VulnField, 'cwes'>, string> & { cwes: string[] };

const ROOT_FIELDS = ['title', 'catalogVersion', 'dateReleased', 'count', 'vulnerabilities'] as const;

function newVuln(): Vuln {
  return {
    cveID: '', vendorProject: '', product: '', vulnerabilityName: '', dateAdded: '', shortDescription: '',
    requiredAction: '', dueDate: '', knownRansomwareCampaignUse: '', notes: '', cwes: [],
  };
}

interface Root {
  catalogVersion: string;
  count: number | bigint;
  /** []*Vulnerability; null entries are nil pointers. */
  vulnerabilities: (Vuln | null)[];
}

export class KevShapeError extends Error {
  constructor(message: string, readonly record?: string) {
    super(message);
  }
}

function decodeVuln(r: GoJsonReader, v: Vuln, at: string): void {
  r.object((key) => {
    const f = goField(key, VULN_FIELDS);
    if (f === undefined) return r.skip();
    if (f === 'cwes') {
      const k = r.kind();
      if (k === 'null') {
        r.null();
        v.cwes = [];
        return;
      }
      if (k !== 'array') throw r.typeError(k, '[]string', `${at}.cwes`);
      const old = v.cwes;
      const next: string[] = [];
      r.array((i) => next.push(r.goString(`${at}.cwes`) ?? (i < old.length ? old[i] : '')));
      v.cwes = next;
      return;
    }
    const s = r.goString(`${at}.${f}`);
    if (s !== undefined) v[f] = s;
  });
}

/** Decodes the catalog document (one JSON value; bytes after it are not read, as json.Decoder). */
export function decodeRoot(buf: Buffer): Root {
  const root: Root = { catalogVersion: '', count: 0, vulnerabilities: [] };
  const r = new GoJsonReader(buf);
  const k = r.kind();
  if (k === 'null') {
    r.null();
    return root;
  }
  if (k !== 'object') throw r.typeError(k, 'kev.Root', '');
  r.object((key) => {
    switch (goField(key, ROOT_FIELDS)) {
      case 'catalogVersion': {
        const s = r.goString('catalogVersion');
        if (s !== undefined) root.catalogVersion = s;
        return;
      }
      case 'title':
      case 'dateReleased':
        r.goString(key);
        return;
      case 'count': {
        const n = r.goInt('count');
        if (n !== undefined) root.count = n;
        return;
      }
      case 'vulnerabilities': {
        const vk = r.kind();
        if (vk === 'null') {
          r.null();
          root.vulnerabilities = [];
          return;
        }
        if (vk !== 'array') throw r.typeError(vk, '[]*kev.Vulnerability', 'vulnerabilities');
        const old = root.vulnerabilities;
        const next: (Vuln | null)[] = [];
        r.array((i) => {
          const ek = r.kind();
          if (ek === 'null') {
            r.null();
            next.push(null);
            return;
          }
          if (ek !== 'object') throw r.typeError(ek, 'kev.Vulnerability', `vulnerabilities[${i}]`);
          const v = (i < old.length ? old[i] : null) ?? newVuln();
          decodeVuln(r, v, `vulnerabilities[${i}]`);
          next.push(v);
        });
        root.vulnerabilities = next;
        return;
      }
      default:
        r.skip();
    }
  });
  return root;
}

/** The records of a catalog document, in document order. */
export function kevRecords(buf: Buffer): EnrichmentRecord[] {
  const root = decodeRoot(buf);
  if (root.count < 0) throw new KevShapeError(`count ${root.count} is negative (claircore's make(…, 0, count) panics)`);
  return root.vulnerabilities.map((v, i) => {
    if (!v) throw new KevShapeError('null entry (claircore dereferences it and panics)', `vulnerabilities[${i}]`);
    const json = goObject([
      ['cve', goQuote(v.cveID)],
      ['vulnerability_name', goQuote(v.vulnerabilityName)],
      ['catalog_version', goQuote(root.catalogVersion)],
      ['date_added', goQuote(v.dateAdded)],
      ['short_description', goQuote(v.shortDescription)],
      ['required_action', goQuote(v.requiredAction)],
      ['due_date', goQuote(v.dueDate)],
      ['known_ransomware_campaign_use', goQuote(v.knownRansomwareCampaignUse)],
    ]);
    const tags = [v.cveID];
    const problem = enrichmentStoreProblem(tags, json);
    if (problem) throw new KevShapeError(problem, `vulnerabilities[${i}] (${v.cveID})`);
    return { updater: UPDATER, tags, json };
  });
}

export async function* parseKev(ctx: ParseContext): AsyncGenerator<FeedOutput> {
  const rec = await readFetchRecord(ctx.mirror, FEED);
  if (!rec) throw feedError({ file: `.fetch/${FEED}.json` }, 'no fetch record', undefined, `run \`clair-bundle fetch --source ${FEED}\``);
  const files = rec.files.filter((f) => f.part === PART);
  if (files.length !== 1) throw feedError({ file: `.fetch/${FEED}.json` }, `expected one KEV file in the fetch record, found ${files.length}; run fetch again`);
  const rel = files[0].path;
  const display = `${PART}/${rel}`;
  let buf: Buffer;
  try {
    buf = await readFile(path.join(ctx.partDir(PART), ...rel.split('/')));
  } catch (err) {
    throw feedError({ file: display }, 'listed in the fetch record but missing from the mirror; run fetch again', err);
  }
  let records: EnrichmentRecord[];
  try {
    records = kevRecords(buf);
  } catch (err) {
    if (err instanceof GoJsonSyntaxError) throw feedError({ file: display }, `malformed JSON: ${err.message}`, err);
    if (err instanceof GoJsonTypeError) throw feedError({ file: display, record: err.field || undefined }, `not a KEV catalog claircore can read: ${err.message}`, err);
    if (err instanceof KevShapeError) throw feedError({ file: display, record: err.record }, `not a KEV catalog claircore can read: ${err.message}`, err);
    throw err;
  }
  ctx.log.info('parsed kev', { feed: FEED, file: display, updater: UPDATER, records: records.length });
  yield { type: 'enrichment', updater: UPDATER, records: iterate(records) };
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
