import { base64url, fromBase64url, utf8 } from "./encoding";
import { timingSafeEqual } from "./secrets";

/** PBKDF2-SHA-256 iterations: the most WebCrypto on Workers accepts (OWASP's floor for SHA-256 is higher). */
export const PBKDF2_ITERATIONS = 100_000;

export interface PasswordHash {
  algorithm: "pbkdf2-sha256";
  iterations: number;
  salt: string;
  hash: string;
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", utf8.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    256,
  );
  return base64url(new Uint8Array(bits));
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<PasswordHash> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return {
    algorithm: "pbkdf2-sha256",
    iterations,
    salt: base64url(salt),
    hash: await derive(password, salt, iterations),
  };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const candidate = await derive(password, fromBase64url(stored.salt), stored.iterations);
  return timingSafeEqual(candidate, stored.hash);
}
