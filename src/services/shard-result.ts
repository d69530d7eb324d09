import { purgeValidation } from "../cache/validation-cache";
import type { Config } from "../core/config";
import type { ShardResult } from "../durable/shard/protocol";
import { OAuthError } from "../errors/oauth-error";

/** Seconds a client is told to wait before retrying a revocation whose purge has not reached KV yet. */
const PURGE_RETRY_AFTER_SECONDS = 2;

/**
 * Finishes a shard call: first drops from the gateway's cache every access token the call revoked (even when
 * the call itself was refused, as reuse detection revokes a family and answers invalid_grant), then returns
 * the value or throws the refusal as an OAuth error.
 *
 * If KV refuses the markers, the shard still has them in its purge outbox and its alarm retries until KV takes
 * them (README "Revoke API"). `purgeFailure` says what the caller answers meanwhile: `defer` (the default:
 * rotations and grants, whose new tokens are committed) answers as if it had worked; `fail` (revocation, which
 * promises the gateway refuses the token at once) answers 503 temporarily_unavailable with Retry-After, so the
 * client retries (RFC 7009 §2.2.1), and a retry publishes the marker again.
 */
export async function settle<T>(
  env: Env,
  config: Config,
  result: ShardResult<T>,
  purgeFailure: "defer" | "fail" = "defer",
): Promise<T> {
  try {
    await purgeValidation(env, config.gatewayCacheTtl, result.purge);
  } catch (error) {
    console.error(
      `gateway purge of ${result.purge.length} token(s) deferred to the shard's outbox:`,
      error instanceof Error ? error.message : error,
    );
    if (purgeFailure === "fail") {
      throw new OAuthError(
        "temporarily_unavailable",
        "the token is revoked, but the gateway cache could not be told yet; retry the revocation",
        { headers: { "Retry-After": String(PURGE_RETRY_AFTER_SECONDS) } },
      );
    }
  }
  if (!result.ok) throw OAuthError.from(result.failure);
  return result.value;
}
