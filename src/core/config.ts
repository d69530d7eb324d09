import { type CorsConfig, readCorsConfig } from "./cors-config";
import { readIssuer } from "./issuer";
import { NO_PARTITIONS, type Partitions, readPartitions } from "./partitions";

/**
 * Typed configuration, read once per set of bindings. Names and defaults are listed in README "Configuration";
 * every duration is in seconds and a negative validity means "never expires".
 */
export interface Config {
  applicationAccessTokenValidity: number;
  userAccessTokenValidity: number;
  refreshTokenValidity: number;
  authorizationCodeValidity: number;
  timestampSkew: number;
  refreshTokenReuseGrace: number;
  gatewayCacheTtl: number;
  /** Seconds between an isolate's checks of the gateway facts' version (README "Validation cache"); 0: every call. */
  gatewayFactsRefresh: number;
  clientDomainHeader: string;
  removeOAuthHeadersFromOutMessage: boolean;
  /** WSO2 "JWT generation": a signed X-JWT-Assertion on every forwarded call (src/signing/assertion.ts). */
  jwtGeneration: boolean;
  /** Name of that header (WSO2 `SecurityContextHeader`). */
  jwtHeader: string;
  /** Lifetime of an X-JWT-Assertion in seconds (never past the token's own expiry). */
  jwtAssertionValidity: number;
  /** The gateway's CORS settings (src/cors-config.ts). */
  cors: CorsConfig;
  /** `ENVIRONMENT`: `development` (default), `staging` or `production`; production requires `ISSUER`. */
  environment: string;
  /** `ISSUER`: the pinned issuer origin (src/core/issuer.ts); null: the origin each request reached. */
  issuer: string | null;
  /** A throttling counter that cannot be reached: let limited calls through uncounted (true) or refuse (false). */
  throttleFailOpen: boolean;
  /** `USER_STORE_PARTITIONS`: user-store domains whose users and tokens live in objects of their own. */
  partitions: Partitions;
}

export const DEFAULT_CONFIG: Config = {
  applicationAccessTokenValidity: 3600,
  userAccessTokenValidity: 3600,
  refreshTokenValidity: 86400,
  authorizationCodeValidity: 300,
  timestampSkew: 0,
  refreshTokenReuseGrace: 30,
  gatewayCacheTtl: 900,
  gatewayFactsRefresh: 1,
  clientDomainHeader: "domain",
  removeOAuthHeadersFromOutMessage: true,
  jwtGeneration: true,
  jwtHeader: "X-JWT-Assertion",
  jwtAssertionValidity: 900,
  cors: readCorsConfig({}, "domain"),
  environment: "development",
  issuer: null,
  throttleFailOpen: false,
  partitions: NO_PARTITIONS,
};

/** An HTTP field name (RFC 9110 §5.1: a token). */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

type ConfigSource = Partial<Record<string, unknown>>;

const cache = new WeakMap<object, Config>();

function integer(source: ConfigSource, name: string, fallback: number): number {
  const raw = source[name];
  if (raw === undefined || raw === null || raw === "") return fallback;
  const value = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isInteger(value)) throw new Error(`config ${name} must be an integer number of seconds`);
  return value;
}

function boolean(source: ConfigSource, name: string, fallback: boolean): boolean {
  const raw = source[name];
  if (raw === undefined || raw === null || raw === "") return fallback;
  if (typeof raw === "boolean") return raw;
  const text = String(raw).trim().toLowerCase();
  if (text === "true") return true;
  if (text === "false") return false;
  throw new Error(`config ${name} must be true or false`);
}

function fieldName(source: ConfigSource, name: string, fallback: string): string {
  const text = String(source[name] ?? "").trim();
  if (text === "") return fallback;
  if (!FIELD_NAME.test(text)) throw new Error(`config ${name} must be an HTTP header name`);
  return text;
}

export function readConfig(source: object): Config {
  const cached = cache.get(source);
  if (cached) return cached;
  const s = source as ConfigSource;
  const clientDomainHeader = String(s.CLIENT_DOMAIN_HEADER ?? "").trim() || DEFAULT_CONFIG.clientDomainHeader;
  const environment =
    String(s.ENVIRONMENT ?? "")
      .trim()
      .toLowerCase() || DEFAULT_CONFIG.environment;
  const config: Config = {
    applicationAccessTokenValidity: integer(
      s,
      "APPLICATION_ACCESS_TOKEN_VALIDITY",
      DEFAULT_CONFIG.applicationAccessTokenValidity,
    ),
    userAccessTokenValidity: integer(s, "USER_ACCESS_TOKEN_VALIDITY", DEFAULT_CONFIG.userAccessTokenValidity),
    refreshTokenValidity: integer(s, "REFRESH_TOKEN_VALIDITY", DEFAULT_CONFIG.refreshTokenValidity),
    authorizationCodeValidity: integer(
      s,
      "AUTHORIZATION_CODE_VALIDITY",
      DEFAULT_CONFIG.authorizationCodeValidity,
    ),
    timestampSkew: Math.max(0, integer(s, "TIMESTAMP_SKEW", DEFAULT_CONFIG.timestampSkew)),
    refreshTokenReuseGrace: Math.max(
      0,
      integer(s, "REFRESH_TOKEN_REUSE_GRACE", DEFAULT_CONFIG.refreshTokenReuseGrace),
    ),
    gatewayCacheTtl: Math.max(0, integer(s, "GATEWAY_CACHE_TTL", DEFAULT_CONFIG.gatewayCacheTtl)),
    gatewayFactsRefresh: Math.max(0, integer(s, "GATEWAY_FACTS_REFRESH", DEFAULT_CONFIG.gatewayFactsRefresh)),
    clientDomainHeader,
    removeOAuthHeadersFromOutMessage: boolean(
      s,
      "REMOVE_OAUTH_HEADERS_FROM_OUT_MESSAGE",
      DEFAULT_CONFIG.removeOAuthHeadersFromOutMessage,
    ),
    jwtGeneration: boolean(s, "JWT_GENERATION", DEFAULT_CONFIG.jwtGeneration),
    jwtHeader: fieldName(s, "JWT_HEADER", DEFAULT_CONFIG.jwtHeader),
    jwtAssertionValidity: Math.max(
      1,
      integer(s, "JWT_ASSERTION_VALIDITY", DEFAULT_CONFIG.jwtAssertionValidity),
    ),
    cors: readCorsConfig(s, clientDomainHeader),
    environment,
    issuer: readIssuer(s.ISSUER, environment),
    throttleFailOpen: boolean(s, "THROTTLE_FAIL_OPEN", DEFAULT_CONFIG.throttleFailOpen),
    partitions: readPartitions(s.USER_STORE_PARTITIONS),
  };
  cache.set(source, config);
  return config;
}

/**
 * What a client is told in `expires_in` for a token that never expires: the largest signed 32-bit integer
 * (about 68 years), so that clients which parse it into an `int` or a double keep it exact.
 */
export const NEVER_EXPIRES_IN = 2147483647;
