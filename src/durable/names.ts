import { readConfig } from "../core/config";
import { partitionOf } from "../core/partitions";
import { shardName, type TokenRoute } from "../core/token-format";
import { type UserStoreRoute, userStoreName, userStoreRoute } from "../core/user-store-routing";

/** The registry is one named object: the directory of applications, keys, APIs, subscriptions and tiers. */
export const REGISTRY_NAME = "registry";

export function registryStub(env: Env) {
  return env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_NAME));
}

/**
 * One shard of a client's tokens. A partition's shards (README "Users: the user store") have names of their own
 * and live in the partition's jurisdiction when it is pinned to one; a route naming a partition this deployment
 * does not declare reaches an object that holds nothing (its token is simply unknown).
 */
export function shardStub(env: Env, route: TokenRoute) {
  const partition = partitionOf(readConfig(env).partitions, route.partition ?? null);
  const namespace = partition?.jurisdiction
    ? env.CLIENT_SHARDS.jurisdiction(partition.jurisdiction)
    : env.CLIENT_SHARDS;
  return namespace.get(namespace.idFromName(shardName(route)));
}

/** The service's signing keys are one named object (src/durable/signing-keys.ts). */
export const SIGNING_KEYS_NAME = "signing-keys";

export function signingKeysStub(env: Env) {
  return env.SIGNING_KEYS.get(env.SIGNING_KEYS.idFromName(SIGNING_KEYS_NAME));
}

/**
 * Throttling counters (src/durable/throttle-counter.ts): one per application + API for the subscription tier, one
 * per application for the application tier. A subscription deleted and made again keeps its counter.
 */
export const counterNames = {
  subscription: (applicationId: string, apiId: string) => `subscription:${applicationId}:${apiId}`,
  application: (applicationId: string) => `application:${applicationId}`,
} as const;

export function counterStub(env: Env, name: string) {
  return env.THROTTLE_COUNTERS.get(env.THROTTLE_COUNTERS.idFromName(name));
}

/**
 * A user store (src/durable/user-store.ts): one of USER_STORE_SHARDS objects, the shared ones or a partition's
 * (src/core/partitions.ts), created in the partition's jurisdiction when it is pinned to one.
 */
export function userStoreStub(env: Env, route: UserStoreRoute) {
  const partition = partitionOf(readConfig(env).partitions, route.partition);
  if (route.partition !== null && !partition) throw new Error(`no user-store partition ${route.partition}`);
  const namespace = partition?.jurisdiction
    ? env.USER_STORES.jurisdiction(partition.jurisdiction)
    : env.USER_STORES;
  return namespace.get(namespace.idFromName(userStoreName(route)));
}

/** The user store that holds a user, by any accepted spelling of the name (README "Users: the user store"). */
export function userStoreOf(env: Env, name: string) {
  return userStoreStub(env, userStoreRoute(name, readConfig(env).partitions));
}
