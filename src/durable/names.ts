import { shardName, type TokenRoute } from "../core/token-format";

/** The registry is one named object: the directory of users, applications, keys, APIs and subscriptions. */
export const REGISTRY_NAME = "registry";

export function registryStub(env: Env) {
  return env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_NAME));
}

export function shardStub(env: Env, route: TokenRoute) {
  return env.CLIENT_SHARDS.get(env.CLIENT_SHARDS.idFromName(shardName(route)));
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
