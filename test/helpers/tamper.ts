import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleDigest, type Manifest } from '../../src/bundle/manifest.js';

/**
 * Rewrites a bundle file AND fixes the manifest's checksums and digest, as a careless or
 * malicious bundle author could: verify passes, the data is bad, the database must refuse it.
 */
export async function rewriteConsistently(dir: string, file: string, edit: (text: string) => string): Promise<void> {
  const abs = path.join(dir, file);
  const text = edit(await readFile(abs, 'utf8'));
  await writeFile(abs, text);
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const sha256 = createHash('sha256').update(text).digest('hex');
  for (const f of manifest.files) if (f.path === file) Object.assign(f, { sha256, size: Buffer.byteLength(text) });
  for (const u of manifest.updaters) {
    if (u.file === file) u.sha256 = sha256;
    if (u.keys?.file === file) u.keys.sha256 = sha256;
  }
  manifest.digest = bundleDigest(manifest.files);
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest) + '\n');
}
