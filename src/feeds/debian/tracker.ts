import { JsonCursor, field, jsonKind } from '../alpine/json-cursor.js';

/**
 * The Debian security tracker JSON (claircore debian/parser.go), decoded one source package at
 * a time with encoding/json's rules for claircore's types:
 *
 *   { "<source package>": { "<vuln id>": { "description": str,
 *       "releases": { "<codename>": { "status": str, "fixed_version": str, "urgency": str } } } } }
 *
 * Struct fields match case-insensitively, other keys are ignored, `null` leaves the zero value,
 * a wrong JSON type is an error. A `null` vulnerability is an error too: claircore dereferences
 * it (a nil pointer panic).
 */
export interface TrackerRelease {
  codename: string;
  status: string;
  fixedVersion: string;
  urgency: string;
}

export interface TrackerVulnerability {
  id: string;
  description: string;
  releases: TrackerRelease[];
}

export interface TrackerPackage {
  name: string;
  vulnerabilities: TrackerVulnerability[];
}

export class TrackerShapeError extends Error {
  constructor(message: string, readonly record: string) {
    super(message);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Streams the source packages of the tracker JSON. JSON syntax errors surface as JsonSyntaxError. */
export async function* readTracker(file: string, onPackage?: (name: string) => void): AsyncGenerator<TrackerPackage> {
  const cur = new JsonCursor(file);
  try {
    const top = await cur.peekKind();
    if (top === 'null') return;
    if (top !== 'object') throw new TrackerShapeError(`cannot unmarshal ${top} into the tracker document (object)`, 'document');
    await cur.enterObject();
    // A repeated package would replace the earlier one in claircore; rows already streamed cannot be taken back.
    const seen = new Set<string>();
    for (let name = await cur.nextKey(); name !== undefined; name = await cur.nextKey()) {
      onPackage?.(name);
      if (seen.has(name)) throw new TrackerShapeError(`duplicate package ${JSON.stringify(name)}`, `package ${name}`);
      seen.add(name);
      yield decodePackage(name, await cur.readValue());
    }
  } finally {
    cur.close();
  }
}

export function decodePackage(name: string, v: unknown): TrackerPackage {
  const where = `package ${name}`;
  if (v === null) return { name, vulnerabilities: [] };
  if (!isObject(v)) throw new TrackerShapeError(`cannot unmarshal ${jsonKind(v)} into a package (object)`, where);
  const vulnerabilities: TrackerVulnerability[] = [];
  for (const [id, data] of Object.entries(v)) {
    const at = `${where}, ${id}`;
    if (!isObject(data)) throw new TrackerShapeError(`cannot use ${jsonKind(data)} as a vulnerability (object)`, at);
    const description = stringField(data, 'description', at);
    const rels = field(data, 'releases') ?? null;
    const releases: TrackerRelease[] = [];
    if (rels !== null) {
      if (!isObject(rels)) throw new TrackerShapeError(`cannot unmarshal ${jsonKind(rels)} into releases (object)`, at);
      for (const [codename, rd] of Object.entries(rels)) {
        if (rd === null) {
          releases.push({ codename, status: '', fixedVersion: '', urgency: '' });
          continue;
        }
        const rat = `${at}, release ${codename}`;
        if (!isObject(rd)) throw new TrackerShapeError(`cannot unmarshal ${jsonKind(rd)} into release data (object)`, rat);
        releases.push({
          codename,
          status: stringField(rd, 'status', rat),
          fixedVersion: stringField(rd, 'fixed_version', rat),
          urgency: stringField(rd, 'urgency', rat),
        });
      }
    }
    vulnerabilities.push({ id, description, releases });
  }
  return { name, vulnerabilities };
}

function stringField(obj: Record<string, unknown>, name: string, at: string): string {
  const v = field(obj, name) ?? null;
  if (v === null) return '';
  if (typeof v !== 'string') throw new TrackerShapeError(`cannot unmarshal ${jsonKind(v)} into ${name} (string)`, at);
  return v;
}
