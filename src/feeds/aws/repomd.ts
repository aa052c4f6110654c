import { goTrimSpace } from '../go-json.js';
import { xmlEvents } from '../oval/xml.js';

/**
 * repomd.xml as claircore decodes it (aws/internal/alas/repomd.go, Go encoding/xml): any root
 * element; its `data` children give repos (`type` attribute, `checksum` text); the integer
 * fields (`revision`, and per repo `timestamp`, `database_version`, `size`, `open-size`) must
 * parse as base-10 int64 after trimming (empty is 0), or the document does not decode. Element
 * text is the character data directly inside the element (children skipped), the last
 * occurrence of a field wins. The updateinfo entry is the first `data` whose type is exactly
 * `updateinfo`.
 */
export class RepoMdError extends Error {}

export interface RepoMd {
  /** `<checksum>` text of the first updateinfo entry (claircore's fingerprint), or undefined when there is none. */
  updateinfoChecksum?: string;
  repos: number;
}

const INT_FIELDS = new Set(['timestamp', 'database_version', 'size', 'open-size']);

function checkInt(text: string, what: string): void {
  if (text.length === 0) return;
  const t = goTrimSpace(text);
  if (!/^[+-]?\d+$/.test(t) || BigInt(t) < -(1n << 63n) || BigInt(t) >= 1n << 63n) {
    throw new RepoMdError(`${what}: ${JSON.stringify(text)} is not an integer`);
  }
}

export async function parseRepoMd(input: AsyncIterable<Buffer | string>): Promise<RepoMd> {
  const out: RepoMd = { repos: 0 };
  const stack: { name: string; text: string }[] = [];
  let repoType: string | undefined;
  let checksum = '';
  for await (const ev of xmlEvents(input)) {
    if (ev.type === 'open') {
      stack.push({ name: ev.name, text: '' });
      if (stack.length === 2 && ev.name === 'data') {
        repoType = ev.attrs.type ?? '';
        checksum = '';
      }
    } else if (ev.type === 'text') {
      stack[stack.length - 1].text += ev.text;
    } else {
      const depth = stack.length;
      const { name, text } = stack.pop()!;
      if (depth === 2 && name === 'revision') checkInt(text, 'revision');
      if (depth === 3 && stack[1].name === 'data') {
        if (INT_FIELDS.has(name)) checkInt(text, `data ${name}`);
        if (name === 'checksum') checksum = text;
      }
      if (depth === 2 && name === 'data') {
        out.repos++;
        if (repoType === 'updateinfo' && out.updateinfoChecksum === undefined) out.updateinfoChecksum = checksum;
        repoType = undefined;
      }
    }
  }
  return out;
}
