/**
 * Shapes of Red Hat's two indexer mapping documents (spec clair-updaters.md §5), as the
 * Go structs claircore decodes them into: a wrong JSON type anywhere it reads is an error,
 * unknown members are ignored, null is the zero value.
 *
 *   repository-to-cpe.json:        {"data": {"<repoid>": {"cpes": ["cpe:/…"], "repo_relative_urls": […]}}, "last_updated": "…"}
 *   container-name-repos-map.json: {"data": {"<name label>": ["ns/repo", …]}, "last_updated"?: "…"}
 */
export const REPO2CPE = 'repository-to-cpe.json';
export const NAME2REPOS = 'container-name-repos-map.json';

export class MappingShapeError extends Error {
  constructor(readonly path: string, what: string) {
    super(`${path || '(document)'}: ${what}`);
  }
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function object(v: unknown, path: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (kind(v) !== 'object') throw new MappingShapeError(path, `expected an object, found ${kind(v)}`);
  return v as Record<string, unknown>;
}

function stringArray(v: unknown, path: string): number {
  if (v === null || v === undefined) return 0;
  if (!Array.isArray(v)) throw new MappingShapeError(path, `expected an array of strings, found ${kind(v)}`);
  v.forEach((s, i) => {
    if (s !== null && typeof s !== 'string') throw new MappingShapeError(`${path}/${i}`, `expected a string, found ${kind(s)}`);
  });
  return v.length;
}

function optionalString(v: unknown, path: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') throw new MappingShapeError(path, `expected a string, found ${kind(v)}`);
  return v;
}

export interface MappingSummary {
  /** Keys of `data`. */
  entries: number;
  /** `last_updated`, or '' when absent. */
  lastUpdated: string;
}

/** Validates repository-to-cpe.json; `data` must be present. */
export function checkRepositoryToCpe(doc: unknown): MappingSummary {
  const root = object(doc, '');
  if (kind(root.data) !== 'object') throw new MappingShapeError('/data', 'missing or not an object');
  const data = root.data as Record<string, unknown>;
  for (const [repo, entry] of Object.entries(data)) {
    const e = object(entry, `/data/${repo}`);
    stringArray(e.cpes, `/data/${repo}/cpes`);
    stringArray(e.repo_relative_urls, `/data/${repo}/repo_relative_urls`);
  }
  return { entries: Object.keys(data).length, lastUpdated: optionalString(root.last_updated, '/last_updated') };
}

/** Validates container-name-repos-map.json; `data` must be present. */
export function checkContainerNameReposMap(doc: unknown): MappingSummary {
  const root = object(doc, '');
  if (kind(root.data) !== 'object') throw new MappingShapeError('/data', 'missing or not an object');
  const data = root.data as Record<string, unknown>;
  for (const [name, repos] of Object.entries(data)) stringArray(repos, `/data/${name}`);
  return { entries: Object.keys(data).length, lastUpdated: optionalString(root.last_updated, '/last_updated') };
}
