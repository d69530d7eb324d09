import type { ClientShard } from "./durable/client-shard";
import type { Registry } from "./durable/registry";
import type { SigningKeys } from "./durable/signing-keys";

/** The Worker's bindings, as declared in wrangler.toml. */
export interface Env {
  VALIDATION_CACHE: KVNamespace;
  REGISTRY: DurableObjectNamespace<Registry>;
  CLIENT_SHARDS: DurableObjectNamespace<ClientShard>;
  ADMIN_TOKEN?: string;
  APPLICATION_ACCESS_TOKEN_VALIDITY?: string;
  USER_ACCESS_TOKEN_VALIDITY?: string;
  REFRESH_TOKEN_VALIDITY?: string;
  AUTHORIZATION_CODE_VALIDITY?: string;
  TIMESTAMP_SKEW?: string;
  REFRESH_TOKEN_REUSE_GRACE?: string;
  GATEWAY_CACHE_TTL?: string;
  CLIENT_DOMAIN_HEADER?: string;
  REMOVE_OAUTH_HEADERS_FROM_OUT_MESSAGE?: string;
  SIGNING_KEYS: DurableObjectNamespace<SigningKeys>;
  /** Wraps the signing keys' private halves at rest; ADMIN_TOKEN when unset (src/signing/key-wrap.ts). */
  SIGNING_KEY_SECRET?: string;
  JWT_GENERATION?: string;
  JWT_HEADER?: string;
  JWT_ASSERTION_VALIDITY?: string;
  CORS_ALLOWED_ORIGINS?: string;
  CORS_ALLOWED_HEADERS?: string;
  CORS_ALLOWED_METHODS?: string;
}
