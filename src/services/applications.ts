import type { KeyType } from "../core/client-record";
import type { Config } from "../core/config";
import { randomShard } from "../core/shard-routing";
import { UNLIMITED } from "../core/tiers";
import { registryStub, shardStub } from "../durable/names";
import {
  type ApplicationInput,
  type ApplicationView,
  DEFAULT_SHARDS,
} from "../durable/registry/applications";
import type { TokenResponseBody } from "../durable/shard/protocol";
import { settle } from "./shard-result";

/**
 * Application operations shared by the admin API and the developer portal, so both go through the same
 * registry and shard code (README "Admin API", "Developer portal").
 */

/** A new application's settings: what the caller gave, the defaults for the rest. */
export function newApplication(
  given: Pick<ApplicationInput, "name" | "owner"> & Partial<ApplicationInput>,
): ApplicationInput {
  return {
    name: given.name,
    owner: given.owner,
    accessTokenValidity: given.accessTokenValidity ?? null,
    accessTokenFormat: given.accessTokenFormat ?? "opaque",
    allowedDomains: given.allowedDomains ?? [],
    callbackUrls: given.callbackUrls ?? [],
    implicitEnabled: given.implicitEnabled ?? true,
    shards: given.shards ?? DEFAULT_SHARDS,
    tier: given.tier ?? UNLIMITED,
  };
}

/**
 * WSO2 Store's "Re-generate": revokes the key's application (client_credentials) tokens, then issues a new one
 * from a random shard of the key. Throws an OAuthError when the shard refuses (a bad scope).
 */
export async function regenerateApplicationToken(
  env: Env,
  config: Config,
  request: { applicationId: string; keyType: KeyType; scope: string | null; issuer: string },
): Promise<{ found: false } | { found: true; token: TokenResponseBody; consumerKey: string }> {
  const registry = registryStub(env);
  const revoked = await registry.revokeApplicationTokens(request.applicationId, request.keyType);
  if (!revoked.ok) return { found: false };
  const app = await registry.getApplication(request.applicationId);
  if (!app.ok) return { found: false };
  const { consumerKey } = revoked.value;
  const route = { consumerKey, shard: randomShard(app.value.shards) };
  const token = await settle(
    env,
    config,
    await shardStub(env, route).issueToken({
      route,
      issuer: request.issuer,
      credentials: { clientId: consumerKey, clientSecret: null, method: "none" },
      grantType: "client_credentials",
      scope: request.scope,
      user: null,
      withRefresh: false,
      allowPublic: true,
    }),
  );
  return { found: true, token, consumerKey };
}

/**
 * The application if `owner` owns it, else null: the developer portal answers another user's application
 * exactly as one that does not exist.
 */
export async function ownedApplication(
  env: Env,
  owner: string,
  applicationId: string,
): Promise<ApplicationView | null> {
  const app = await registryStub(env).getApplication(applicationId);
  return app.ok && app.value.owner === owner ? app.value : null;
}
