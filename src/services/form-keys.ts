import { utf8 } from "../crypto/encoding";
import { registryStub } from "../durable/names";

/**
 * HMAC keys for the browser forms' CSRF protection (the authorization endpoint's signed forms, the developer
 * portal's tokens). Each purpose has its own label, so a value made for one is worthless to another. All
 * derive from one random secret the Registry generates on first use and keeps; a key is derived once per
 * isolate and purpose (the secret never changes).
 */
const keys = new Map<string, Promise<CryptoKey>>();

async function deriveKey(env: Env, label: string): Promise<CryptoKey> {
  const secret = await registryStub(env).formSigningSecret();
  const material = await crypto.subtle.digest("SHA-256", utf8.encode(`${label}\0${secret}`));
  return crypto.subtle.importKey("raw", material, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

export function formKey(env: Env, label: string): Promise<CryptoKey> {
  let key = keys.get(label);
  if (!key) {
    key = deriveKey(env, label);
    keys.set(label, key);
    key.catch(() => keys.delete(label));
  }
  return key;
}
