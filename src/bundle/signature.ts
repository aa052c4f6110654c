import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BundleError, ConfigError } from '../errors.js';
import { MANIFEST_FILE } from './manifest.js';

/**
 * Detached signature of manifest.json (which holds every file's sha256 and the digest), in
 * the format of `cosign sign-blob`: base64 of the signature over the manifest bytes with SHA-256
 * (ECDSA P-256 DER, RSA PKCS#1 v1.5, or Ed25519). Verifiable with
 * `cosign verify-blob --key key.pub --signature manifest.json.sig manifest.json` or openssl.
 */
export const SIGNATURE_FILE = 'manifest.json.sig';

async function key<T extends KeyObject>(file: string, make: (pem: string) => T, what: string): Promise<T> {
  try {
    return make(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read the ${what} key ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function algorithm(k: KeyObject): string | null {
  return k.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

export async function signBundle(dir: string, privateKeyFile: string): Promise<string> {
  const privateKey = await key(privateKeyFile, (pem) => createPrivateKey(pem), 'private');
  const manifest = await readFile(path.join(dir, MANIFEST_FILE));
  const sig = sign(algorithm(privateKey), manifest, privateKey).toString('base64');
  await writeFile(path.join(dir, SIGNATURE_FILE), sig + '\n');
  return path.join(dir, SIGNATURE_FILE);
}

/** Checks manifest.json.sig against a public key; BundleError (exit 3) when absent or wrong. */
export async function verifySignature(dir: string, publicKeyFile: string): Promise<void> {
  const publicKey = await key(publicKeyFile, (pem) => createPublicKey(pem), 'public');
  let sig: string;
  try {
    sig = (await readFile(path.join(dir, SIGNATURE_FILE), 'utf8')).trim();
  } catch {
    throw new BundleError(`${SIGNATURE_FILE} is missing: the bundle is not signed`, { place: { file: SIGNATURE_FILE }, hint: 'sign it with: clair-bundle sign BUNDLE --key private.pem' });
  }
  const manifest = await readFile(path.join(dir, MANIFEST_FILE));
  let ok = false;
  try {
    ok = verify(algorithm(publicKey), manifest, publicKey, Buffer.from(sig, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) throw new BundleError(`${SIGNATURE_FILE} does not verify manifest.json with ${path.basename(publicKeyFile)}`, { place: { file: SIGNATURE_FILE } });
}
