import { kvKeys } from "../cache-keys";
import type { Env } from "../env";

/**
 * Drops the gateway's cached validation of the given access tokens (by hash). Revocation awaits this before it
 * answers, so the gateway in the same location refuses the token on the very next call.
 */
export async function purgeValidation(env: Env, tokenHashes: readonly string[]): Promise<void> {
  if (tokenHashes.length === 0) return;
  await Promise.all(tokenHashes.map((hash) => env.VALIDATION_CACHE.delete(kvKeys.validation(hash))));
}
