import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewriteConsistently } from '../helpers/tamper.js';
import { makeGeneration } from './lib/bundles.js';
import { errorLines, run } from './lib/cli.js';
import { clairPart, cloneDb, dropDb, exactDump } from './lib/db.js';
import { tally } from './lib/tally.js';

/**
 * Integrity: signed bundles (`clair-bundle sign`, `load --require-signature --public-key`). A
 * bundle changed after signing, signed with another key, unsigned or carrying garbage instead of
 * a signature is refused with exit 3 before any connection; good signatures of every supported key
 * type load.
 */
const AREA = 'signatures';
let work: string;
let signed: string;
let url = '';
let dbName = '';

const keyPair = async (type: 'ec' | 'rsa' | 'ed25519', name: string) => {
  const { privateKey, publicKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  const priv = path.join(work, `${name}.key`);
  const pub = path.join(work, `${name}.pub`);
  await writeFile(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub };
};

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'clair-bundle-sig-'));
  const b = await makeGeneration({ rows: 500, generation: 1, created: '2026-01-01T00:00:00Z', mapping: 'excerpt' });
  signed = path.join(work, 'signed');
  await cp(b.dir, signed, { recursive: true });
  const db = await cloneDb('tpl_clair20', 'sig');
  url = db.url;
  dbName = db.name;
});
afterAll(async () => {
  if (dbName) await dropDb(dbName);
});

describe('signed bundles', () => {
  it('good signatures (ECDSA P-256, RSA, Ed25519) verify and load', async () => {
    for (const type of ['ec', 'rsa', 'ed25519'] as const) {
      const k = await keyPair(type, `good-${type}`);
      const dir = path.join(work, `good-${type}`);
      await cp(signed, dir, { recursive: true });
      expect((await run(['sign', dir, '--key', k.priv], { label: `sign-${type}` })).status).toBe(0);
      const v = await run(['verify', dir, '--public-key', k.pub], { label: `verify-${type}` });
      const l = await run(['load', dir, '--db', url, '--require-signature', '--public-key', k.pub], { label: `load-signed-${type}` });
      expect(v.status, v.stderr).toBe(0);
      expect(l.status, l.stderr).toBe(0);
    }
  });

  const cases: [string, (dir: string, other: { priv: string; pub: string }) => Promise<void>, RegExp][] = [
    ['unsigned bundle', async (dir) => (await import('node:fs/promises')).rm(path.join(dir, 'manifest.json.sig')), /manifest\.json\.sig is missing: the bundle is not signed/],
    ['signed with another key', async (dir, other) => {
      expect((await run(['sign', dir, '--key', other.priv], { label: 'sign-other' })).status).toBe(0);
    }, /manifest\.json\.sig does not verify manifest\.json/],
    ['manifest edited after signing (created date moved)', async (dir) => {
      const m = path.join(dir, 'manifest.json');
      await writeFile(m, (await readFile(m, 'utf8')).replace('"created":"2026-01-01T00:00:00Z"', '"created":"2027-01-01T00:00:00Z"'));
    }, /manifest\.json\.sig does not verify manifest\.json/],
    ['a CSV and the manifest rewritten after signing (checksums consistent)', async (dir) => {
      await rewriteConsistently(dir, 'vulnerabilities/debian%2Fupdater.csv', (t) => t.replace('"Medium"', '"Critical"'));
    }, /manifest\.json\.sig does not verify manifest\.json/],
    ['signature file holding garbage', async (dir) => writeFile(path.join(dir, 'manifest.json.sig'), 'not a signature\n'), /manifest\.json\.sig does not verify manifest\.json/],
    ['signature of an empty manifest', async (dir, other) => {
      const { sign, createPrivateKey } = await import('node:crypto');
      const s = sign('sha256', Buffer.alloc(0), createPrivateKey(await readFile(other.priv, 'utf8'))).toString('base64');
      await writeFile(path.join(dir, 'manifest.json.sig'), s + '\n');
    }, /manifest\.json\.sig does not verify manifest\.json/],
  ];
  it.each(cases)('%s: verify and load refuse it (exit 3), nothing written', async (name, damage, message) => {
    const k = await keyPair('ec', `k-${name.replace(/\W/g, '')}`);
    const other = await keyPair('ec', `o-${name.replace(/\W/g, '')}`);
    const dir = path.join(work, `case-${name.replace(/\W/g, '')}`);
    await cp(signed, dir, { recursive: true });
    expect((await run(['sign', dir, '--key', k.priv], { label: 'sign' })).status).toBe(0);
    await damage(dir, other);
    const before = clairPart(await exactDump(url));
    const v = await run(['verify', dir, '--public-key', k.pub], { label: `sig-verify-${name}` });
    const l = await run(['load', dir, '--db', url, '--require-signature', '--public-key', k.pub], { label: `sig-load-${name}` });
    const same = JSON.stringify(clairPart(await exactDump(url))) === JSON.stringify(before);
    const ok = [v, l].every((r) => r.status === 3 && errorLines(r).length === 1 && message.test(errorLines(r)[0])) && same;
    tally(AREA, 'input', name, ok, `verify exit ${v.status}, load exit ${l.status}: ${errorLines(l)[0]}`);
    expect(ok, `${v.stderr}\n${l.stderr}`).toBe(true);
  });

  it('--require-signature without a key is a usage error (exit 2)', async () => {
    const r = await run(['load', signed, '--db', url, '--require-signature'], { label: 'sig-nokey' });
    tally(AREA, 'input', '--require-signature without --public-key', r.status === 2, `exit ${r.status}`);
    expect(r.status).toBe(2);
  });
});
