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
