import { base64url, fromBase64url, fromUtf8, utf8 } from "./encoding";

/**
 * `bytes` of CSPRNG output as base64url. 32 bytes = 256 bits: RFC 6749 §10.10 asks that tokens cannot be
 * guessed (RFC 6819 §5.1.4.2.2 suggests at least 128 bits).
 */
export function randomSecret(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** SHA-256 of a secret, base64url: the look-up key under which tokens, codes and secrets are stored. */
export async function hashSecret(secret: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(secret))));
}

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = utf8.encode(a);
  const right = utf8.encode(b);
  const subtle = crypto.subtle as SubtleCrypto & {
    timingSafeEqual?: (a: ArrayBuffer, b: ArrayBuffer) => boolean;
  };
  if (left.byteLength !== right.byteLength) {
    // Still spend the comparison so a length mismatch is not faster than a content mismatch.
    if (subtle.timingSafeEqual) subtle.timingSafeEqual(left, left);
    return false;
  }
  if (subtle.timingSafeEqual) return subtle.timingSafeEqual(left, right);
  let diff = 0;
  for (let i = 0; i < left.length; i++) diff |= (left[i] as number) ^ (right[i] as number);
  return diff === 0;
}

async function sealingKey(secret: string, purpose: string): Promise<CryptoKey> {
  const material = await crypto.subtle.digest(
    "SHA-256",
    utf8.encode(`edge-key-manager/seal/${purpose}\0${secret}`),
  );
  return crypto.subtle.importKey("raw", material, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/**
 * Encrypts `plaintext` under a key derived from `secret` (a token the caller holds), so that what is stored
 * can be read back only by someone who presents that token again. Used for the sibling token of a pair
 * (revocation headers) and the successor of a spent refresh token (retry-safe rotation).
 */
export async function sealWith(secret: string, purpose: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await sealingKey(secret, purpose);
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, utf8.encode(plaintext)),
  );
  return `${base64url(iv)}.${base64url(ciphertext)}`;
}

/** The inverse of {@link sealWith}; `null` when the secret or purpose is wrong or the data was altered. */
export async function unsealWith(secret: string, purpose: string, sealed: string): Promise<string | null> {
  const [iv, body] = sealed.split(".");
  if (!iv || !body) return null;
  try {
    const key = await sealingKey(secret, purpose);
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64url(iv) },
      key,
      fromBase64url(body),
    );
    return fromUtf8.decode(plaintext);
  } catch {
    return null;
  }
}
