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

/**
 * The 256 random bits an opaque token ends with: `<consumer key>.<shard>.<43 base64url characters>`
 * (src/core/token-format.ts). A JWT never matches (its last part is a signature of 86 or more characters).
 */
const OPAQUE_TOKEN = /^[^.]+\.[^.]+\.([A-Za-z0-9_-]{43})$/;

/** Marks a value sealed under a token's own random bits (no tag: under a SHA-256 of purpose and secret). */
const TOKEN_KEYED = "t";

/** What every sealing key or additional data starts with, then the purpose. */
const SEAL_DOMAIN = "edge-key-manager/seal/";

/** AES-GCM additional data: what a sealed value is for, so a value sealed for one purpose opens for no other. */
function purposeData(purpose: string): Uint8Array {
  return utf8.encode(`${SEAL_DOMAIN}${purpose}`);
}

/** The key of untagged values (and of secrets that are not opaque tokens): SHA-256 of purpose and secret. */
async function derivedKey(secret: string, purpose: string): Promise<CryptoKey> {
  const material = await crypto.subtle.digest("SHA-256", utf8.encode(`${SEAL_DOMAIN}${purpose}\0${secret}`));
  return crypto.subtle.importKey("raw", material, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** An opaque token's 43-character random tail, or null for any other secret. */
function randomTail(secret: string): string | null {
  return OPAQUE_TOKEN.exec(secret)?.[1] ?? null;
}

/**
 * The AES-GCM key and parameters for sealing under `secret`: keyed by the token's own random `bits` (the
 * purpose as additional data), or, with `bits` null, by the SHA-256 of purpose and secret.
 */
async function sealing(secret: string, purpose: string, bits: string | null, iv: Uint8Array) {
  if (bits === null) {
    return { key: await derivedKey(secret, purpose), params: { name: "AES-GCM", iv } };
  }
  const key = await crypto.subtle.importKey("raw", fromBase64url(bits), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  const params: SubtleCryptoEncryptAlgorithm = { name: "AES-GCM", iv, additionalData: purposeData(purpose) };
  return { key, params };
}

/**
 * Encrypts `plaintext` (AES-256-GCM) under a key only `secret` (a token the caller holds) yields, so that what
 * is stored can be read back only by someone who presents that token again. Used for the sibling token of a
 * pair (revocation headers) and the successor of a spent refresh token (retry-safe rotation). An opaque
 * token's own 256 random bits are the key, with the purpose as additional data (`t.<iv>.<ciphertext>`); any
 * other secret (a JWT access token) keys by SHA-256 of purpose and secret (`<iv>.<ciphertext>`). The stored
 * SHA-256 of the token reveals neither.
 */
export async function sealWith(secret: string, purpose: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const bits = randomTail(secret);
  const { key, params } = await sealing(secret, purpose, bits, iv);
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt(params, key, utf8.encode(plaintext)));
  const sealed = `${base64url(iv)}.${base64url(ciphertext)}`;
  return bits === null ? sealed : `${TOKEN_KEYED}.${sealed}`;
}

/** The inverse of {@link sealWith}; `null` when the secret or purpose is wrong or the data was altered. */
export async function unsealWith(secret: string, purpose: string, sealed: string): Promise<string | null> {
  const parts = sealed.split(".");
  const tokenKeyed = parts.length === 3 && parts[0] === TOKEN_KEYED;
  const [iv, body] = tokenKeyed ? parts.slice(1) : parts;
  if (!iv || !body || (!tokenKeyed && parts.length !== 2)) return null;
  const bits = tokenKeyed ? randomTail(secret) : null;
  if (tokenKeyed && bits === null) return null;
  try {
    const { key, params } = await sealing(secret, purpose, bits, fromBase64url(iv));
    return fromUtf8.decode(await crypto.subtle.decrypt(params, key, fromBase64url(body)));
  } catch {
    return null;
  }
}
