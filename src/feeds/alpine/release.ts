import { ConfigError } from '../../errors.js';
import type { Distribution } from '../../model/vulnerability.js';

/**
 * Alpine releases as claircore names them (alpine/release.go): a stable release `v<maj>.<min>`
 * or `edge`; each has a `main` and a `community` secdb file, and each existing file is one
 * updater `alpine-<repo>-<release>-updater`.
 */
export type Release = { readonly major: number; readonly minor: number } | 'edge';

export const REPOS = ['main', 'community'] as const;
export type Repo = (typeof REPOS)[number];

/** Feed option selecting the releases to fetch and build (default: claircore's discovery). */
export const RELEASES_OPTION = 'alpine-releases';

export function releaseName(r: Release): string {
  return r === 'edge' ? 'edge' : `v${r.major}.${r.minor}`;
}

export function updaterName(repo: string, r: Release): string {
  return `alpine-${repo}-${releaseName(r)}-updater`;
}

/** A release directory name exactly as claircore formats it (`v3.20`, `edge`), else undefined. */
export function parseReleaseName(s: string): Release | undefined {
  if (s === 'edge') return 'edge';
  const m = /^v(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/.exec(s);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** Stable releases in version order, edge last. */
export function compareReleases(a: Release, b: Release): number {
  if (a === 'edge' || b === 'edge') return (a === 'edge' ? 1 : 0) - (b === 'edge' ? 1 : 0);
  return a.major - b.major || a.minor - b.minor;
}

/** claircore: stableRelease.Distribution() / edgeRelease.Distribution(). */
export function releaseDist(r: Release): Distribution {
  const stable = r !== 'edge';
  return {
    did: 'alpine',
    name: 'Alpine Linux',
    version: '',
    versionCodeName: '',
    versionId: stable ? `${r.major}.${r.minor}` : 'edge',
    arch: '',
    cpe: '',
    prettyName: stable ? `Alpine Linux v${r.major}.${r.minor}` : 'Alpine Linux edge',
  };
}

/**
 * `--option alpine-releases=v3.19,v3.20,edge`: the releases to use instead of discovery.
 * `3.19` is accepted for `v3.19`. Returns undefined when the option is absent.
 */
export function releasesOption(options: Readonly<Record<string, string>>): Release[] | undefined {
  const raw = options[RELEASES_OPTION];
  if (raw === undefined) return undefined;
  const out = new Map<string, Release>();
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^v?(\d+)\.(\d+)$/.exec(item);
    const r: Release | undefined = item === 'edge' ? 'edge' : m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
    if (!r || (r !== 'edge' && (!Number.isSafeInteger(r.major) || !Number.isSafeInteger(r.minor)))) {
      throw new ConfigError(`${RELEASES_OPTION}: ${JSON.stringify(item)} is not an Alpine release`, { hint: 'releases look like v3.20 or edge, comma-separated' });
    }
    out.set(releaseName(r), r);
  }
  if (out.size === 0) throw new ConfigError(`${RELEASES_OPTION}: no release given`, { hint: 'e.g. --option alpine-releases=v3.20,edge' });
  return [...out.values()].sort(compareReleases);
}
