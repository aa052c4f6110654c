import { ConfigError } from '../../errors.js';

/**
 * The claircore-version-dependent OSV rules (claircore updater/osv/osv.go at each tag).
 * v1.5.48 → v1.5.54: Self/Aliases were added (an id without `-` aborts the parse, an alias
 * without `-` drops the advisory), and an ECOSYSTEM range for Go or npm is skipped instead of
 * aborting the updater's whole parse. HEAD (after v1.5.54) also skips affected entries whose
 * ecosystem is not the dump's.
 */
export interface OsvRules {
  readonly aliases: boolean;
  /** An ECOSYSTEM range in a Go or npm entry: skip the range, or fail the updater's parse. */
  readonly goNpmEcosystemRange: 'skip' | 'abort';
  /** Only affected entries whose normalised ecosystem equals the dump's. */
  readonly filterAffectedEcosystem: boolean;
}

export const OSV_RULES = {
  'claircore-v1.5.48': { aliases: false, goNpmEcosystemRange: 'abort', filterAffectedEcosystem: false },
  'claircore-v1.5.54': { aliases: true, goNpmEcosystemRange: 'skip', filterAffectedEcosystem: false },
  head: { aliases: true, goNpmEcosystemRange: 'skip', filterAffectedEcosystem: true },
} as const satisfies Record<string, OsvRules>;

/** Feed option overriding the build target's rules (`--option osv-rules=head`). */
export const RULES_OPTION = 'osv-rules';

export function osvRules(options: Readonly<Record<string, string>>): OsvRules {
  const name = options[RULES_OPTION] ?? options.target ?? 'claircore-v1.5.54';
  if (!Object.hasOwn(OSV_RULES, name)) {
    throw new ConfigError(`${RULES_OPTION}: unknown rules ${JSON.stringify(name)}`, { hint: `one of ${Object.keys(OSV_RULES).join(', ')}` });
  }
  return OSV_RULES[name as keyof typeof OSV_RULES];
}
