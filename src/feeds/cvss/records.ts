import type { EnrichmentRecord } from '../../model/vulnerability.js';
import { GoJsonReader, GoJsonSyntaxError, GoJsonTypeError, enrichmentStoreProblem, goCompact, goField } from '../go-json.js';
import { JsonByteStream } from './stream.js';

/**
 * One NVD CVE API 2.0 yearly feed → clair.cvss records, as claircore's enricher/cvss/feed.go
 * builds them: the document is decoded into `{totalResults int; vulnerabilities RawMessage}`,
 * then the (last) `vulnerabilities` value into `[]vuln`; for every CVE whose vulnStatus is not
 * "Rejected" (any case), the first metric with type "Primary" among cvssMetricV31 then
 * cvssMetricV30 gives the record `{Tags: [cve.id], Enrichment: its cvssData}`, whose bytes are
 * the feed's text compacted by Go's json.Encoder (key order, number spelling and escapes kept;
 * `<` `>` `&` escaped). A CVE without such a metric (or whose Primary metric has no cvssData) is
 * skipped. Go struct decoding is followed: case-insensitive keys, the last duplicate wins, a
 * repeated object merges into what the earlier one set, `null` leaves a field alone (and empties
 * a slice), any other type mismatch fails the document.
 */
export const UPDATER = 'clair.cvss';

interface Metric {
  type: string;
  /** The cvssData value's bytes (json.RawMessage); undefined when absent. */
  cvss: Buffer | undefined;
}

interface Vuln {
  id: string;
  status: string;
  v30: Metric[];
  v31: Metric[];
}

/** A record number and CVE id for error messages. */
export interface RecordPlace {
  index: number;
  id: string;
}

export class FeedShapeError extends Error {
  constructor(readonly cause: GoJsonTypeError | GoJsonSyntaxError | Error, readonly place: RecordPlace | undefined) {
    super(cause.message);
  }
}

function decodeMetric(r: GoJsonReader, m: Metric): void {
  const k = r.kind();
  if (k === 'null') {
    r.null();
    return;
  }
  if (k !== 'object') throw r.typeError(k, 'cvss.metric', '');
  r.object((key) => {
    switch (goField(key, ['type', 'cvssData'] as const)) {
      case 'type': {
        const s = r.goString('type');
        if (s !== undefined) m.type = s;
        return;
      }
      case 'cvssData': {
        const [s, e] = r.raw();
        m.cvss = Buffer.from(r.buf.subarray(s, e));
        return;
      }
      default:
        r.skip();
    }
  });
}

/** A []metric field: null empties it; an array decodes element-wise into the existing elements. */
function decodeMetrics(r: GoJsonReader, cur: Metric[], field: string): Metric[] {
  const k = r.kind();
  if (k === 'null') {
    r.null();
    return [];
  }
  if (k !== 'array') throw r.typeError(k, '[]cvss.metric', field);
  const out: Metric[] = [];
  r.array((i) => {
    const m = i < cur.length ? cur[i] : { type: '', cvss: undefined };
    decodeMetric(r, m);
    out.push(m);
  });
  return out;
}

function decodeStruct(r: GoJsonReader, goType: string, field: string, member: (key: string) => void): void {
  const k = r.kind();
  if (k === 'null') {
    r.null();
    return;
  }
  if (k !== 'object') throw r.typeError(k, goType, field);
  r.object(member);
}

function decodeVuln(r: GoJsonReader, v: Vuln): void {
  decodeStruct(r, 'cvss.vuln', '', (key) => {
    if (goField(key, ['cve'] as const) === undefined) return r.skip();
    decodeStruct(r, 'struct', 'cve', (ck) => {
      switch (goField(ck, ['id', 'vulnStatus', 'metrics'] as const)) {
        case 'id': {
          const s = r.goString('cve.id');
          if (s !== undefined) v.id = s;
          return;
        }
        case 'vulnStatus': {
          const s = r.goString('cve.vulnStatus');
          if (s !== undefined) v.status = s;
          return;
        }
        case 'metrics':
          decodeStruct(r, 'struct', 'cve.metrics', (mk) => {
            switch (goField(mk, ['cvssMetricV30', 'cvssMetricV31'] as const)) {
              case 'cvssMetricV30': v.v30 = decodeMetrics(r, v.v30, 'cve.metrics.cvssMetricV30'); return;
              case 'cvssMetricV31': v.v31 = decodeMetrics(r, v.v31, 'cve.metrics.cvssMetricV31'); return;
              default: r.skip();
            }
          });
          return;
        default:
          r.skip();
      }
    });
  });
}

/** Go strings.EqualFold(s, "Rejected"): only ASCII letters can fold onto these. */
function isRejected(status: string): boolean {
  return status.length === 8 && status.replace(/[A-Z]/g, (c) => c.toLowerCase()) === 'rejected';
}

/** The record claircore writes for one decoded CVE, or undefined when it is skipped. */
export function cvssRecord(v: Vuln): EnrichmentRecord | undefined {
  if (isRejected(v.status)) return undefined;
  let chosen: Metric | undefined;
  for (const m of [...v.v31, ...v.v30]) {
    if (m.type === 'Primary') {
      chosen = m;
      break;
    }
  }
  if (!chosen?.cvss) return undefined;
  const json = goCompact(chosen.cvss);
  const problem = enrichmentStoreProblem([v.id], json);
  if (problem) throw new Error(problem);
  return { updater: UPDATER, tags: [v.id], json };
}

interface Occurrence {
  records: EnrichmentRecord[];
  /** A type error inside this `vulnerabilities` value (fatal only if no later occurrence replaces it). */
  typeError?: FeedShapeError;
}

/**
 * The records of one decompressed yearly feed, in document order. The whole document is read
 * (records are held until the end: a later `vulnerabilities` key would replace them, as in Go);
 * bytes after the top-level value are not looked at, like json.Decoder.
 */
export async function feedRecords(input: AsyncIterable<Buffer>): Promise<EnrichmentRecord[]> {
  const s = new JsonByteStream(input);
  const first = await s.peek();
  if (first !== 0x7b) {
    const r = await s.checkedValue();
    if (r.kind() === 'null') throw new FeedShapeError(new Error('no "vulnerabilities" in the document (unexpected end of JSON input)'), undefined);
    throw new FeedShapeError(r.typeError(r.kind(), 'cvss.vulnFeed', ''), undefined);
  }
  s.take();
  let current: Occurrence | undefined;
  let fatal: FeedShapeError | undefined;
  if ((await s.peek()) === 0x7d) {
    s.take();
  } else {
    for (;;) {
      if ((await s.peek()) !== 0x22) throw s.unexpected(await s.peek(), 'looking for beginning of object key string');
      const key = (await s.checkedValue()).string();
      await s.expect(0x3a, 'after object key');
      switch (goField(key, ['totalResults', 'vulnerabilities'] as const)) {
        case 'totalResults': {
          const r = await s.checkedValue();
          try {
            const total = r.goInt('totalResults');
            if (total !== undefined && total < 0) {
              fatal ??= new FeedShapeError(new Error(`totalResults ${total} is negative (claircore's make([]vuln, 0, totalResults) panics)`), undefined);
            }
          } catch (err) {
            if (!(err instanceof GoJsonTypeError)) throw err;
            fatal ??= new FeedShapeError(err, undefined);
          }
          break;
        }
        case 'vulnerabilities':
          current = await vulnerabilities(s);
          break;
        default:
          (await s.checkedValue()).skip();
      }
      const c = await s.peek();
      s.take();
      if (c === 0x2c) continue;
      if (c === 0x7d) break;
      throw s.unexpected(c, "after object key:value pair (expecting ',' or '}')");
    }
  }
  if (fatal) throw fatal;
  if (!current) throw new FeedShapeError(new Error('no "vulnerabilities" in the document (unexpected end of JSON input)'), undefined);
  if (current.typeError) throw current.typeError;
  return current.records;
}

async function vulnerabilities(s: JsonByteStream): Promise<Occurrence> {
  const occ: Occurrence = { records: [] };
  if ((await s.peek()) !== 0x5b) {
    const r = await s.checkedValue();
    const k = r.kind();
    r.skip();
    if (k !== 'null') occ.typeError = new FeedShapeError(new GoJsonTypeError(k, '[]cvss.vuln', 'vulnerabilities', r.base), undefined);
    return occ;
  }
  s.take();
  if ((await s.peek()) === 0x5d) {
    s.take();
    return occ;
  }
  for (let index = 0; ; index++) {
    const r = await s.value();
    const start = r.pos;
    const v: Vuln = { id: '', status: '', v30: [], v31: [] };
    try {
      decodeVuln(r, v);
    } catch (err) {
      if (!(err instanceof GoJsonTypeError)) throw err;
      // Go finishes the document (syntax errors win) and reports the first type error.
      occ.typeError ??= new FeedShapeError(err, { index, id: v.id });
      r.pos = start;
      r.skip();
    }
    if (!r.atEnd()) throw r.syntax("invalid character after array element (expecting ',' or ']')");
    if (!occ.typeError) {
      let rec: EnrichmentRecord | undefined;
      try {
        rec = cvssRecord(v);
      } catch (err) {
        throw new FeedShapeError(err as Error, { index, id: v.id });
      }
      if (rec) occ.records.push(rec);
    }
    const c = await s.peek();
    s.take();
    if (c === 0x2c) continue;
    if (c === 0x5d) return occ;
    throw s.unexpected(c, "after array element (expecting ',' or ']')");
  }
}
