import type { Distribution, Vulnerability } from '../../model/vulnerability.js';
import { xmlEvents } from '../oval/xml.js';
import { normalizeSeverity } from './releases.js';

/**
 * updateinfo.xml → records, as claircore's aws Updater.Parse builds them (aws/updater.go,
 * aws/internal/alas/updates.go, Go encoding/xml): every `update` child of the root gives one
 * record per `pkglist/collection/package` (all collections, no filtering):
 * Name = `id`, Description = `description`, Links = every `references/reference/@href` joined
 * with a space, Severity verbatim, NormalizedSeverity exact lower-case names, Package
 * `{name, arch, binary}`, FixedInVersion `[epoch:]version-release` (epoch omitted when empty or
 * "0"), ArchOperation `equals`, the release's Dist. Element text is the character data directly
 * inside the element; a repeated field keeps the last one.
 *
 * Issued is always Go's zero time: alas.DateElem embeds `Date`, a defined type over time.Time,
 * and encoding/xml flattens an embedded struct-kinded field into its (unexported) fields,
 * ignoring its `xml:"date,attr"` tag, so `issued/@date` is never decoded (nor checked). Seen
 * in the conformance oracle: claircore v1.5.48 and v1.5.54 store 0001-01-01 for every row.
 */
export function versionString(epoch: string, version: string, release: string): string {
  return `${epoch !== '' && epoch !== '0' ? `${epoch}:` : ''}${version}-${release}`;
}

interface Update {
  id: string;
  description: string;
  severity: string;
  links: string[];
  packages: { name: string; epoch: string; version: string; release: string; arch: string }[];
}

const TEXT_FIELDS = new Set(['id', 'description', 'severity']);

/** The records of one updateinfo document, streamed update by update. */
export async function* updateInfoRecords(input: AsyncIterable<Buffer | string>, updater: string, dist: Distribution): AsyncGenerator<Vulnerability> {
  const stack: { name: string; text: string }[] = [];
  let u: Update | undefined;
  for await (const ev of xmlEvents(input)) {
    if (ev.type === 'text') {
      stack[stack.length - 1].text += ev.text;
      continue;
    }
    if (ev.type === 'open') {
      stack.push({ name: ev.name, text: '' });
      const path = stack.map((s) => s.name);
      const d = path.length;
      if (d === 2 && ev.name === 'update') {
        u = { id: '', description: '', severity: '', links: [], packages: [] };
      } else if (u && path[1] === 'update') {
        if (d === 4 && path[2] === 'references' && ev.name === 'reference') u.links.push(ev.attrs.href ?? '');
        else if (d === 5 && path[2] === 'pkglist' && path[3] === 'collection' && ev.name === 'package') {
          const a = ev.attrs;
          u.packages.push({ name: a.name ?? '', epoch: a.epoch ?? '', version: a.version ?? '', release: a.release ?? '', arch: a.arch ?? '' });
        }
      }
      continue;
    }
    const d = stack.length;
    const el = stack.pop()!;
    if (!u) continue;
    if (d === 3 && stack[1].name === 'update' && TEXT_FIELDS.has(el.name)) {
      u[el.name as 'id' | 'description' | 'severity'] = el.text;
    } else if (d === 2 && el.name === 'update') {
      const links = u.links.join(' ');
      for (const p of u.packages) {
        yield {
          updater, name: u.id, description: u.description, issued: '', links, severity: u.severity,
          normalizedSeverity: normalizeSeverity(u.severity),
          package: { name: p.name, version: '', module: '', arch: p.arch, kind: 'binary' },
          dist, repo: null, fixedInVersion: versionString(p.epoch, p.version, p.release), archOperation: 'equals', range: null,
        };
      }
      u = undefined;
    }
  }
}
