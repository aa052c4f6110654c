import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository/package root (holds package.json and sql/), found from this compiled file. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const TOOL_NAME = 'clair-bundle';
export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** claircore versions whose rules `build --target` can follow; the first is the default. */
export const TARGETS = ['claircore-v1.5.54', 'claircore-v1.5.48'] as const;
export type Target = (typeof TARGETS)[number];
