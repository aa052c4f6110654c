/**
 * Every claircore-version-dependent VEX rule, in one table (spec clair-updaters.md §4.14),
 * keyed like `build --target` (src/version.ts TARGETS). Adding a version means adding a row
 * here, listing it in BUILD_TARGETS, and, for a rule value not implemented yet, its branch
 * in csaf.ts / status.ts / creator.ts.
 */
export interface VexRules {
  /**
   * How product statuses become records. `index`: v1.5.53+ (per-document indexes, a shared
   * skip set, status.Key() dedupe; csaf.ts + status.ts). `creator`: claircore's `creator` as of
   * v1.5.48 (§4.14 lists the same traits up to v1.5.52): relationship walk, a product cache
   * shared by the whole run, fixed records keyed `repoId:module:name-fixedIn` and committed
   * before they are validated (creator.ts).
   */
  readonly resolution: 'index' | 'creator';
  /** Emit `known_not_affected` (Invert) records (`index` only). */
  readonly knownNotAffected: boolean;
  /** Fill Self and Aliases. */
  readonly aliases: boolean;
  /** `drop-all`: every purl name starting with `kernel` is dropped; `allowlist`: HEAD's list. */
  readonly kernel: 'drop-all' | 'allowlist';
  /** Drop `arch=src|nosrc` entries from fixed and known_not_affected before dedupe. */
  readonly dropSourceArch: boolean;
  /**
   * Without a `self` document reference: append nothing, append `""` (Links then ends in a
   * space), or synthesize `<base><year>/<id>.json`.
   */
  readonly missingSelfLink: 'none' | 'empty' | 'synthesize';
  /** Which score / `impact` threat naming a product applies: the first in the document or the last. */
  readonly lookup: 'first' | 'last';
  /** The remediation whose URL fixed records append: the first `vendor_fix`, or the first of any category. */
  readonly remediation: 'vendor_fix' | 'any';
  /** Before unbinding a CPE, a component's trailing `*` becomes `%02` and every `?` becomes `%01`. */
  readonly cpePreEscape: boolean;
  /** packageurl-go release whose FromString parses the purl helpers. */
  readonly purl: 'v0.1.3' | 'v0.1.6';
  /** A deletions.csv row removes the records of a changed document read before it (same CVE). */
  readonly deletionDropsChanged: boolean;
}

export const RULES = {
  /** claircore v1.5.53 and v1.5.54. */
  'claircore-v1.5.54': {
    resolution: 'index',
    knownNotAffected: true,
    aliases: true,
    kernel: 'drop-all',
    dropSourceArch: false,
    missingSelfLink: 'none',
    lookup: 'last',
    remediation: 'vendor_fix',
    cpePreEscape: false,
    purl: 'v0.1.6',
    deletionDropsChanged: true,
  },
  /** claircore v1.5.48 (Clair v4.9.0's pin), packageurl-go v0.1.3. */
  'claircore-v1.5.48': {
    resolution: 'creator',
    knownNotAffected: false,
    aliases: false,
    kernel: 'drop-all',
    dropSourceArch: false,
    missingSelfLink: 'empty',
    lookup: 'first',
    remediation: 'any',
    cpePreEscape: true,
    purl: 'v0.1.3',
    deletionDropsChanged: false,
  },
  /** claircore HEAD 0f12d7bc (2026-08-21), without the optional CEL rewrite; only by RULES_OPTION. */
  'claircore-head': {
    resolution: 'index',
    knownNotAffected: true,
    aliases: true,
    kernel: 'allowlist',
    dropSourceArch: true,
    missingSelfLink: 'synthesize',
    lookup: 'last',
    remediation: 'vendor_fix',
    cpePreEscape: false,
    purl: 'v0.1.6',
    deletionDropsChanged: true,
  },
} as const satisfies Record<string, VexRules>;

export type RulesTarget = keyof typeof RULES;

export const DEFAULT_TARGET: RulesTarget = 'claircore-v1.5.54';

/** Build targets (`options.target`) the feed declares; `claircore-head` is reachable only by RULES_OPTION. */
export const BUILD_TARGETS: readonly string[] = ['claircore-v1.5.54', 'claircore-v1.5.48'];

/** Feed option overriding `options.target` for this feed (e.g. `rhel-vex-rules=claircore-head`). */
export const RULES_OPTION = 'rhel-vex-rules';

/** Feed option (`true`) mirroring claircore HEAD's `ignore_kernel_packages`. */
export const IGNORE_KERNEL_OPTION = 'rhel-vex-ignore-kernel-packages';

export function isRulesTarget(s: string): s is RulesTarget {
  return Object.hasOwn(RULES, s);
}

/** HEAD's kernel allowlist (claircore rhel/vex/parser.go `allowedKernelPackages`). */
export const ALLOWED_KERNEL_PACKAGES: ReadonlySet<string> = new Set([
  'kernel', 'kernel-core', 'kernel-modules', 'kernel-modules-core', 'kernel-modules-extra',
  'kernel-uki-virt', 'kernel-uki-virt-addons',
  'kernel-rt', 'kernel-rt-core', 'kernel-rt-kvm', 'kernel-rt-modules', 'kernel-rt-modules-core', 'kernel-rt-modules-extra',
  'kernel-64k', 'kernel-64k-core', 'kernel-64k-modules', 'kernel-64k-modules-core', 'kernel-64k-modules-extra',
  'kernel-rt-64k', 'kernel-rt-64k-core', 'kernel-rt-64k-kvm', 'kernel-rt-64k-modules', 'kernel-rt-64k-modules-core',
  'kernel-rt-64k-modules-extra',
]);

/** claircore's default VEX base URL, used for synthesized self links (never the mirror's URL). */
export const CLAIRCORE_BASE_URL = 'https://security.access.redhat.com/data/csaf/v2/vex/';
