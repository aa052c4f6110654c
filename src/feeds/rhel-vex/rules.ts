/**
 * Every claircore-version-dependent VEX rule, in one table (spec clair-updaters.md §4.14),
 * keyed like `build --target` (src/version.ts TARGETS). Adding v1.5.52 or v1.5.48 means adding
 * a row here, listing it in `rhelVex.targets`, and, for a rule value not implemented yet, its
 * branch in csaf.ts / status.ts.
 */
export interface VexRules {
  /** Emit `known_not_affected` (Invert) records. */
  readonly knownNotAffected: boolean;
  /** Fill Self and Aliases. */
  readonly aliases: boolean;
  /** `drop-all`: every purl name starting with `kernel` is dropped; `allowlist`: HEAD's list. */
  readonly kernel: 'drop-all' | 'allowlist';
  /** Drop `arch=src|nosrc` entries from fixed and known_not_affected before dedupe. */
  readonly dropSourceArch: boolean;
  /** Without a `self` document reference: append nothing, or synthesize `<base><year>/<id>.json`. */
  readonly missingSelfLink: 'none' | 'synthesize';
}

export const RULES = {
  /** claircore v1.5.53 and v1.5.54. */
  'claircore-v1.5.54': {
    knownNotAffected: true,
    aliases: true,
    kernel: 'drop-all',
    dropSourceArch: false,
    missingSelfLink: 'none',
  },
  /** claircore HEAD 0f12d7bc (2026-08-21), without the optional CEL rewrite; only by RULES_OPTION. */
  'claircore-head': {
    knownNotAffected: true,
    aliases: true,
    kernel: 'allowlist',
    dropSourceArch: true,
    missingSelfLink: 'synthesize',
  },
} as const satisfies Record<string, VexRules>;

export type RulesTarget = keyof typeof RULES;

export const DEFAULT_TARGET: RulesTarget = 'claircore-v1.5.54';

/** Build targets (`options.target`) the feed declares; `claircore-head` is reachable only by RULES_OPTION. */
export const BUILD_TARGETS: readonly string[] = ['claircore-v1.5.54'];

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
