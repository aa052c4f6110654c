import type { NormalizedSeverity } from '../../model/vulnerability.js';

/**
 * The Low / Moderate / Important / Critical scale of SUSE's and Photon's OVAL severities, as
 * claircore's suse and photon NormalizeSeverity map it: exact names only, anything else Unknown.
 */
export function importantScaleSeverity(s: string): NormalizedSeverity {
  switch (s) {
    case 'Low': return 'Low';
    case 'Moderate': return 'Medium';
    case 'Important': return 'High';
    case 'Critical': return 'Critical';
    default: return 'Unknown';
  }
}
