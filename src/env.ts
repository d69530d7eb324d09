import type { ClientShard } from "./durable/client-shard";
import type { Registry } from "./durable/registry";

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
}
