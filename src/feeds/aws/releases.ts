import type { Distribution } from '../../model/vulnerability.js';

/**
 * Amazon Linux releases as claircore's aws updater set has them (aws/releases.go,
 * updaterset.go): updater `aws-<release>-updater`, the mirror list it starts from (a constant in
 * claircore; no configuration), and the Dist every record of it carries.
 */
export type Release = 'AL1' | 'AL2' | 'AL2023';

/** Upstream hosts (fetch parts): the AL2/AL2023 CDN and AL1's repository host. */
export const PARTS = {
  'aws.cdn': 'https://cdn.amazonlinux.com/',
  'aws.al1': 'http://repo.us-west-2.amazonaws.com/',
} as const;
export type Part = keyof typeof PARTS;

export interface ReleaseInfo {
  release: Release;
  updater: string;
  part: Part;
  /** The mirror list's path under its part's base URL. */
  mirrorList: string;
  dist: Distribution;
}

const amzn = (name: string, version: string, cpe: string, prettyName: string): Distribution => ({
  did: 'amzn', name, version, versionCodeName: '', versionId: version, arch: '', cpe, prettyName,
});

export const RELEASES: readonly ReleaseInfo[] = [
  {
    release: 'AL1', updater: 'aws-AL1-updater', part: 'aws.al1', mirrorList: '2018.03/updates/x86_64/mirror.list',
    // cpe.MustUnbind("cpe:/o:amazon:linux:2018.03:ga"), bound as a 2.3 formatted string.
    dist: amzn('Amazon Linux AMI', '2018.03', 'cpe:2.3:o:amazon:linux:2018.03:ga:*:*:*:*:*:*', 'Amazon Linux AMI 2018.03'),
  },
  {
    release: 'AL2', updater: 'aws-AL2-updater', part: 'aws.cdn', mirrorList: '2/core/latest/x86_64/mirror.list',
    dist: amzn('Amazon Linux', '2', 'cpe:2.3:o:amazon:amazon_linux:2:*:*:*:*:*:*:*', 'Amazon Linux 2'),
  },
  {
    release: 'AL2023', updater: 'aws-AL2023-updater', part: 'aws.cdn', mirrorList: 'al2023/core/mirrors/latest/x86_64/mirror.list',
    dist: amzn('Amazon Linux', '2023', 'cpe:2.3:o:amazon:amazon_linux:2023:*:*:*:*:*:*:*', 'Amazon Linux 2023'),
  },
];

/** claircore aws.NormalizeSeverity: exact lower-case names only ("Important" is Unknown). */
export function normalizeSeverity(severity: string): 'Low' | 'Medium' | 'High' | 'Critical' | 'Unknown' {
  switch (severity) {
    case 'low': return 'Low';
    case 'medium': return 'Medium';
    case 'important': return 'High';
    case 'critical': return 'Critical';
    default: return 'Unknown';
  }
}
