import { purgeValidation } from "../cache/validation-cache";
import type { Config } from "../core/config";
import type { ShardResult } from "../durable/shard/protocol";
import { OAuthError } from "../errors/oauth-error";

/**
 * Finishes a shard call: first drops from the gateway's cache every access token the call revoked (even when
 * the call itself was refused, as reuse detection revokes a family and answers invalid_grant), then returns
 * the value or throws the refusal as an OAuth error.
 */
export async function settle<T>(env: Env, config: Config, result: ShardResult<T>): Promise<T> {
  await purgeValidation(env, config.gatewayCacheTtl, result.purge);
  if (!result.ok) throw OAuthError.from(result.failure);
  return result.value;
}
