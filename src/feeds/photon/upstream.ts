import { ConfigError } from '../../errors.js';
import type { Distribution } from '../../model/vulnerability.js';
import { importantScaleSeverity } from '../oval/severity.js';

/**
 * Photon OS OVAL (claircore v1.5.54 photon/photon.go, releases.go, updaterset.go,
 * normalizeseverity.go): one updater per release `1.0` … `5.0`, named
 * `photon-updater-<release>`, reading `com.vmware.phsa-photon<N>.xml` under the base URL.
 */
export const FEED = 'photon';
export const PART = 'photon';
export const DEFAULT_BASE_URL = 'https://packages.vmware.com/photon/photon_oval_definitions/';
/** claircore's photonReleases, in order. */
export const RELEASES = ['1.0', '2.0', '3.0', '4.0', '5.0'] as const;
export type Release = (typeof RELEASES)[number];
/** Feed option: comma-separated releases to fetch and build (default: all of RELEASES). */
export const RELEASES_OPTION = 'photon-releases';

export function updaterName(r: Release): string {
  return `photon-updater-${r}`;
}

/** claircore NewUpdater: `com.vmware.phsa-photon` + the release without its `.0`. */
export function ovalFile(r: Release): string {
  return `com.vmware.phsa-photon${r.replace(/\.0$/, '')}.xml`;
}

/** claircore releaseToDist. */
export function releaseDist(r: Release): Distribution {
  return { did: 'photon', name: 'VMware Photon OS', version: r, versionCodeName: '', versionId: r, arch: '', cpe: '', prettyName: 'VMware Photon OS/Linux' };
}

/** claircore photon NormalizeSeverity: exact names only. */
export const normalizeSeverity = importantScaleSeverity;

/** The releases named by the option (`3.0` or `3`), in claircore's order; every release without it. */
export function selectReleases(options: Readonly<Record<string, string>>): Release[] {
  const raw = options[RELEASES_OPTION];
  if (raw === undefined) return [...RELEASES];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new ConfigError(`${RELEASES_OPTION}: no release named`, { hint: `e.g. --option ${RELEASES_OPTION}=4.0,5.0` });
  const wanted = new Set<Release>();
  for (const n of names) {
    const r = RELEASES.find((x) => x === n || x === `${n}.0`);
    if (!r) throw new ConfigError(`${RELEASES_OPTION}: ${JSON.stringify(n)} is not a Photon release claircore knows (${RELEASES.join(', ')})`);
    wanted.add(r);
  }
  return RELEASES.filter((r) => wanted.has(r));
}
