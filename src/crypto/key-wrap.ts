import { base64url, fromBase64url, fromUtf8, utf8 } from "./encoding";

/**
 * Private signing keys are never stored in plaintext (README "Signing keys and the JWKS"): the SigningKeys Durable
 * Object keeps each one sealed with AES-256-GCM under a key-encryption key derived (HKDF-SHA-256) from a
 * Worker secret, with the key's `kid` as associated data so that a sealed key cannot be moved to another row.
 * The secret is `SIGNING_KEY_SECRET`, or `ADMIN_TOKEN` when that is not set. A Worker isolate that signs
 * unseals the key into a non-extractable CryptoKey in its own memory; the plaintext JWK exists only there.
 *
 * If the secret changes, the stored keys no longer unseal: the Durable Object then retires them (their public
 * halves stay published until what they signed has expired) and generates new ones.
 */
export function wrappingSecret(env: { SIGNING_KEY_SECRET?: string; ADMIN_TOKEN?: string }): string | null {
  return env.SIGNING_KEY_SECRET || env.ADMIN_TOKEN || null;
}

const HKDF_INFO = utf8.encode("edge-key-manager/signing-keys/v1");
let cached: { secret: string; key: Promise<CryptoKey> } | null = null;

function keyEncryptionKey(secret: string): Promise<CryptoKey> {
  if (cached?.secret === secret) return cached.key;
  const key = crypto.subtle
    .importKey("raw", utf8.encode(secret), "HKDF", false, ["deriveKey"])
    .then((material) =>
      crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: HKDF_INFO },
        material,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      ),
    );
  cached = { secret, key };
  return key;
}

export async function sealPrivateKey(secret: string, kid: string, jwk: JsonWebKey): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8.encode(kid) },
    await keyEncryptionKey(secret),
    utf8.encode(JSON.stringify(jwk)),
  );
  return `${base64url(iv)}.${base64url(new Uint8Array(ciphertext))}`;
}

/** The private JWK, or `null` when the secret (or the kid) is not the one it was sealed with. */
export async function unsealPrivateKey(
  secret: string,
  kid: string,
  sealed: string,
): Promise<JsonWebKey | null> {
  const [iv, body] = sealed.split(".");
  if (!iv || !body) return null;
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64url(iv), additionalData: utf8.encode(kid) },
      await keyEncryptionKey(secret),
      fromBase64url(body),
    );
    return JSON.parse(fromUtf8.decode(plaintext)) as JsonWebKey;
  } catch {
    return null;
  }
}
