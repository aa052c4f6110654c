import { JsonCursor, field, jsonKind, sameField } from './json-cursor.js';

/**
 * The Alpine secdb document (claircore alpine/secdb.go), decoded one package at a time with
 * encoding/json's rules for the struct claircore decodes into:
 *
 *   {"distroversion": str, "reponame": str, "urlprefix": str, "apkurl": str,
 *    "packages": [{"pkg": {"name": str, "secfixes": {"<fixed version>": [id, …]}}}]}
 *
 * Object keys match struct fields case-insensitively, other keys are ignored, `null` leaves the
 * zero value (a `null` id is `""`), and a value of the wrong JSON type is an error.
 */
export interface SecdbPackage {
  /** Index in `packages`. */
  index: number;
  name: string;
  /** Fixed-in version → ids, in document order (a repeated key keeps its last value). */
  secfixes: [fixedIn: string, ids: string[]][];
}

/** The document does not have the shape claircore decodes. `record` says where. */
export class SecdbShapeError extends Error {
  constructor(message: string, readonly record: string) {
    super(message);
  }
}

const STRING_FIELDS = ['distroversion', 'reponame', 'urlprefix', 'apkurl'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Streams the packages of a secdb file. JSON syntax errors surface as JsonSyntaxError. */
export async function* readSecdb(file: string): AsyncGenerator<SecdbPackage> {
  const cur = new JsonCursor(file);
  try {
    const top = await cur.peekKind();
    if (top === 'null') return;
    if (top !== 'object') throw new SecdbShapeError(`cannot unmarshal ${top} into the secdb document`, 'document');
    await cur.enterObject();
    let seenPackages = false;
    for (let key = await cur.nextKey(); key !== undefined; key = await cur.nextKey()) {
      if (sameField(key, 'packages')) {
        // A second "packages" would replace the first in claircore; records already streamed cannot be taken back.
        if (seenPackages) throw new SecdbShapeError(`duplicate key ${JSON.stringify(key)}`, key);
        seenPackages = true;
        const kind = await cur.peekKind();
        if (kind === 'null') {
          await cur.skipValue();
          continue;
        }
        if (kind !== 'array') throw new SecdbShapeError(`cannot unmarshal ${kind} into packages`, key);
        await cur.enterArray();
        for (let i = 0; await cur.nextElement(); i++) {
          const pkg = decodePackage(await cur.readValue(), i);
          if (pkg) yield pkg;
        }
      } else if (STRING_FIELDS.some((f) => sameField(key, f))) {
        const v = await cur.readValue();
        if (v !== null && typeof v !== 'string') throw new SecdbShapeError(`cannot unmarshal ${jsonKind(v)} into ${key} (string)`, key);
      } else {
        await cur.skipValue();
      }
    }
  } finally {
    cur.close();
  }
}

/** One element of `packages`; undefined when it is `null` or has no `pkg`. */
export function decodePackage(v: unknown, index: number): SecdbPackage | undefined {
  const where = `packages[${index}]`;
  if (v === null) return undefined;
  if (!isObject(v)) throw new SecdbShapeError(`cannot unmarshal ${jsonKind(v)} into a package`, where);
  const pkg = field(v, 'pkg');
  if (pkg === undefined || pkg === null) return undefined;
  if (!isObject(pkg)) throw new SecdbShapeError(`cannot unmarshal ${jsonKind(pkg)} into pkg`, where);
  const name = field(pkg, 'name') ?? '';
  if (typeof name !== 'string') throw new SecdbShapeError(`cannot unmarshal ${jsonKind(name)} into pkg.name (string)`, where);
  const at = name ? `${where} (${name})` : where;
  const fixes = field(pkg, 'secfixes') ?? null;
  const secfixes: [string, string[]][] = [];
  if (fixes !== null) {
    if (!isObject(fixes)) throw new SecdbShapeError(`cannot unmarshal ${jsonKind(fixes)} into pkg.secfixes (object)`, at);
    for (const [fixedIn, ids] of Object.entries(fixes)) {
      if (ids === null) continue;
      if (!Array.isArray(ids)) throw new SecdbShapeError(`cannot unmarshal ${jsonKind(ids)} into secfixes[${JSON.stringify(fixedIn)}] (array)`, at);
      const list = ids.map((id: unknown) => {
        if (id === null) return '';
        if (typeof id !== 'string') throw new SecdbShapeError(`cannot unmarshal ${jsonKind(id)} into an id in secfixes[${JSON.stringify(fixedIn)}] (string)`, at);
        return id;
      });
      secfixes.push([fixedIn, list]);
    }
  }
  return { index, name, secfixes };
}
