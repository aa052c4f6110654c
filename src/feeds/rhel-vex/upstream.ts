/**
 * The CSAF 2.0 VEX document as claircore's toolkit/types/csaf decodes it, private to this
 * feed. `decodeCsaf` mirrors Go's encoding/json into those structs: a missing or `null`
 * member is the zero value, a member of the wrong JSON type is an error (Go's decoder
 * reports it and claircore aborts), unknown members are ignored. Time members must be
 * RFC 3339 strings. Only what the parser reads is kept; the rest is type-checked and dropped.
 */

export interface Csaf {
  document: DocumentMetadata;
  product_tree: ProductBranch;
  vulnerabilities: Vulnerability[];
}

export interface DocumentMetadata {
  tracking: { id: string; status: string };
  references: Reference[];
}

export interface Reference {
  category: string;
  url: string;
}

export interface ProductBranch {
  branches: ProductBranch[];
  product: Product;
  relationships: Relationship[];
}

export interface Product {
  product_id: string;
  /** product_identification_helper (Go map[string]string). */
  helper: Record<string, string>;
}

export interface Relationship {
  category: string;
  full_product_name: Product;
  product_reference: string;
  relates_to_product_reference: string;
}

export interface Vulnerability {
  cve: string;
  product_status: Record<string, string[]>;
  threats: Threat[];
  remediations: Remediation[];
  references: Reference[];
  /** RFC 3339 as written, or '' (Go zero time). */
  release_date: string;
  notes: Note[];
  scores: Score[];
}

export interface Cvss {
  baseScore: number;
  vectorString: string;
}

export interface Score {
  cvss_v2: Cvss | null;
  cvss_v3: Cvss | null;
  cvss_v4: Cvss | null;
  products: string[];
}

export interface Threat {
  category: string;
  details: string;
  product_ids: string[];
}

export interface Remediation {
  category: string;
  url: string;
  product_ids: string[];
}

export interface Note {
  category: string;
  text: string;
}

/** A JSON value that does not fit claircore's CSAF structs; `path` is a JSON pointer-ish trail. */
export class CsafDecodeError extends Error {
  constructor(readonly path: string, what: string) {
    super(`${path || '(document)'}: ${what}`);
  }
}

type Json = unknown;
type Obj = Record<string, Json>;

function kind(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function obj(v: Json, path: string): Obj {
  if (v === undefined || v === null) return {};
  if (kind(v) !== 'object') throw new CsafDecodeError(path, `cannot unmarshal ${kind(v)} into an object`);
  return v as Obj;
}

function str(v: Json, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new CsafDecodeError(path, `cannot unmarshal ${kind(v)} into a string`);
  return v;
}

function num(v: Json, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number') throw new CsafDecodeError(path, `cannot unmarshal ${kind(v)} into a number`);
  return v;
}

function arr<T>(v: Json, path: string, item: (x: Json, p: string) => T): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new CsafDecodeError(path, `cannot unmarshal ${kind(v)} into an array`);
  return v.map((x, i) => item(x, `${path}/${i}`));
}

function strings(v: Json, path: string): string[] {
  return arr(v, path, str);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** A Go time.Time member: null/missing → '' (zero), else a valid RFC 3339 string. */
function time(v: Json, path: string): string {
  if (v === undefined || v === null) return '';
  const s = str(v, path);
  const m = RFC3339.exec(s);
  const bad = () => new CsafDecodeError(path, `cannot parse ${JSON.stringify(s)} as RFC 3339`);
  if (!m) throw bad();
  const [, y, mo, d, h, mi, sec, , , , oh, om] = m;
  const year = Number(y);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Number(mo) - 1];
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > days || +h > 23 || +mi > 59 || +sec > 59) throw bad();
  if (oh !== undefined && (+oh > 23 || +om > 59)) throw bad();
  return s;
}

/**
 * The UTC instant (`…Z`, fraction kept up to 9 digits) of a decoded RFC 3339 time, the
 * form Vulnerability.issued takes. '' stays ''.
 */
export function utcInstant(rfc3339: string): string {
  if (rfc3339 === '') return '';
  const m = RFC3339.exec(rfc3339)!;
  const [, y, mo, d, h, mi, sec, frac, , sign, oh, om] = m;
  const offsetMin = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : 0;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi) - offsetMin, Number(sec), 0);
  const f = (frac ?? '').slice(0, 9).replace(/0+$/, '');
  const iso = date.toISOString().replace(/\.\d{3}Z$/, '');
  const out = `${iso}${f ? '.' + f : ''}Z`;
  return out === '0001-01-01T00:00:00Z' ? '' : out;
}

function reference(v: Json, p: string): Reference {
  const o = obj(v, p);
  str(o.summary, `${p}/summary`);
  return { category: str(o.category, `${p}/category`), url: str(o.url, `${p}/url`) };
}

function helperMap(v: Json, p: string): Record<string, string> {
  const o = obj(v, p);
  const out: Record<string, string> = Object.create(null);
  for (const [k, x] of Object.entries(o)) out[k] = str(x, `${p}/${k}`);
  return out;
}

function product(v: Json, p: string): Product {
  const o = obj(v, p);
  str(o.name, `${p}/name`);
  return { product_id: str(o.product_id, `${p}/product_id`), helper: helperMap(o.product_identification_helper, `${p}/product_identification_helper`) };
}

function relationship(v: Json, p: string): Relationship {
  const o = obj(v, p);
  return {
    category: str(o.category, `${p}/category`),
    full_product_name: product(o.full_product_name, `${p}/full_product_name`),
    product_reference: str(o.product_reference, `${p}/product_reference`),
    relates_to_product_reference: str(o.relates_to_product_reference, `${p}/relates_to_product_reference`),
  };
}

function branch(v: Json, p: string): ProductBranch {
  const o = obj(v, p);
  str(o.category, `${p}/category`);
  str(o.name, `${p}/name`);
  return {
    branches: arr(o.branches, `${p}/branches`, branch),
    product: product(o.product, `${p}/product`),
    relationships: arr(o.relationships, `${p}/relationships`, relationship),
  };
}

function cvss(v: Json, p: string): Cvss | null {
  if (v === undefined || v === null) return null;
  const o = obj(v, p);
  str(o.version, `${p}/version`);
  str(o.baseSeverity, `${p}/baseSeverity`);
  return { baseScore: num(o.baseScore, `${p}/baseScore`), vectorString: str(o.vectorString, `${p}/vectorString`) };
}

function score(v: Json, p: string): Score {
  const o = obj(v, p);
  return {
    cvss_v2: cvss(o.cvss_v2, `${p}/cvss_v2`),
    cvss_v3: cvss(o.cvss_v3, `${p}/cvss_v3`),
    cvss_v4: cvss(o.cvss_v4, `${p}/cvss_v4`),
    products: strings(o.products, `${p}/products`),
  };
}

function threat(v: Json, p: string): Threat {
  const o = obj(v, p);
  return { category: str(o.category, `${p}/category`), details: str(o.details, `${p}/details`), product_ids: strings(o.product_ids, `${p}/product_ids`) };
}

function remediation(v: Json, p: string): Remediation {
  const o = obj(v, p);
  time(o.date, `${p}/date`);
  str(o.details, `${p}/details`);
  strings(o.entitlements, `${p}/entitlements`);
  strings(o.group_ids, `${p}/group_ids`);
  const r = obj(o.restart_required, `${p}/restart_required`);
  str(r.category, `${p}/restart_required/category`);
  str(r.details, `${p}/restart_required/details`);
  return { category: str(o.category, `${p}/category`), url: str(o.url, `${p}/url`), product_ids: strings(o.product_ids, `${p}/product_ids`) };
}

function note(v: Json, p: string): Note {
  const o = obj(v, p);
  str(o.title, `${p}/title`);
  str(o.audience, `${p}/audience`);
  return { category: str(o.category, `${p}/category`), text: str(o.text, `${p}/text`) };
}

function checkMinor(o: Obj, p: string): void {
  arr(o.ids, `${p}/ids`, (x, q) => {
    const i = obj(x, q);
    return [str(i.system_name, `${q}/system_name`), str(i.text, `${q}/text`)];
  });
  arr(o.flags, `${p}/flags`, (x, q) => {
    const f = obj(x, q);
    return [str(f.label, `${q}/label`), time(f.date, `${q}/date`), strings(f.group_ids, `${q}/group_ids`), strings(f.product_ids, `${q}/product_ids`)];
  });
}

function vulnerability(v: Json, p: string): Vulnerability {
  const o = obj(v, p);
  checkMinor(o, p);
  const ps = obj(o.product_status, `${p}/product_status`);
  const product_status: Record<string, string[]> = Object.create(null);
  for (const [k, ids] of Object.entries(ps)) product_status[k] = strings(ids, `${p}/product_status/${k}`);
  return {
    cve: str(o.cve, `${p}/cve`),
    product_status,
    threats: arr(o.threats, `${p}/threats`, threat),
    remediations: arr(o.remediations, `${p}/remediations`, remediation),
    references: arr(o.references, `${p}/references`, reference),
    release_date: time(o.release_date, `${p}/release_date`),
    notes: arr(o.notes, `${p}/notes`, note),
    scores: arr(o.scores, `${p}/scores`, score),
  };
}

function documentMetadata(v: Json, p: string): DocumentMetadata {
  const o = obj(v, p);
  str(o.title, `${p}/title`);
  const t = obj(o.tracking, `${p}/tracking`);
  time(t.current_release_date, `${p}/tracking/current_release_date`);
  time(t.initial_release_date, `${p}/tracking/initial_release_date`);
  const pub = obj(o.publisher, `${p}/publisher`);
  for (const k of ['category', 'contact_details', 'issuing_authority', 'name', 'namespace']) str(pub[k], `${p}/publisher/${k}`);
  const sev = obj(o.aggregate_severity, `${p}/aggregate_severity`);
  str(sev.namespace, `${p}/aggregate_severity/namespace`);
  str(sev.text, `${p}/aggregate_severity/text`);
  return {
    tracking: { id: str(t.id, `${p}/tracking/id`), status: str(t.status, `${p}/tracking/status`) },
    references: arr(o.references, `${p}/references`, reference),
  };
}

/** Decodes a parsed JSON value as claircore's csaf.Parse would. Throws CsafDecodeError. */
export function decodeCsaf(v: Json): Csaf {
  const o = obj(v, '');
  arr(o.notes, '/notes', note);
  return {
    document: documentMetadata(o.document, '/document'),
    product_tree: branch(o.product_tree, '/product_tree'),
    vulnerabilities: arr(o.vulnerabilities, '/vulnerabilities', vulnerability),
  };
}
