import { cacheEnabled, isFresh } from "../cache/cache-policy";
import { type CachedFacts, readCachedFacts } from "../cache/cache-read";
import type { CachedValidation, GatewayApi, KeyFacts, RouteTable, TierTable } from "../cache/facts";
import { markUnknownClient } from "../cache/unknown-clients";
import { validationEntry, writeValidation } from "../cache/validation-cache";
import type { Config } from "../core/config";
import { type TierPolicy, UNLIMITED } from "../core/tiers";
import { parseTokenRoute, type TokenRoute } from "../core/token-format";
import { hashSecret } from "../crypto/secrets";
import { registryStub, shardStub } from "../durable/names";
import { GatewayError } from "../errors/gateway-error";
import { type PresentedToken, readBearerToken } from "./bearer";
import { checkDomain, type DomainRefusal } from "./domains";
import { deadTokens, unknownKeys } from "./negative-cache";
import { matchApi } from "./routes";

/** A call the gateway may forward, and who makes it. */
export interface AuthorizedCall {
  api: GatewayApi;
  /** Path after `/{context}/{version}`. */
  remainder: string;
  /** The endpoint of the token's key type. */
  endpoint: string;
  key: KeyFacts;
  token: CachedValidation;
  /** The subscription's tier (API level) and the application's (application level), with their limits. */
  tier: string;
  subscriptionTier: TierPolicy;
  applicationTier: TierPolicy;
}

export interface AuthorizeOptions {
  env: Env;
  config: Config;
  request: Request;
  /** Runs work after the response (cache fills); `ctx.waitUntil` in the Worker. */
  background: (work: Promise<unknown>) => void;
}

const invalidToken = () =>
  new GatewayError("invalid_token", "the access token is not active: unknown, expired or revoked");

/** A request under a published API, with what the cache knew about it and its token (if any). */
export interface LocatedCall {
  api: GatewayApi;
  remainder: string;
  presented: PresentedToken;
  route: TokenRoute | null;
  hash: string | null;
  cached: CachedFacts;
}

/**
 * Finds the API a request calls (404 when none is published there), reading in the same KV bulk read every
 * cache entry its token needs. A preflight stops here: it needs no token.
 */
export async function locateCall(options: AuthorizeOptions): Promise<LocatedCall> {
  const { env, config, request } = options;
  const caching = cacheEnabled(config.gatewayCacheTtl);
  const presented = readBearerToken(request.headers);
  const route = presented.kind === "token" ? parseTokenRoute(presented.token) : null;
  const hash = route && presented.kind === "token" ? await hashSecret(presented.token) : null;

  const cached: CachedFacts = caching
    ? await readCachedFacts(env, route && hash ? { consumerKey: route.consumerKey, hash } : null)
    : { routes: null, tiers: null, key: null, validation: null, revoked: false, unknownKey: false };

  const url = new URL(request.url);
  const routes = isFresh(cached.routes, Date.now()) ? (cached.routes as RouteTable) : await fetchRoutes(env);
  const match = matchApi(routes.apis, url.pathname);
  if (!match) throw new GatewayError("not_found", `no API is published at ${url.pathname}`);
  return { api: match.api, remainder: match.remainder, presented, route, hash, cached };
}

/**
 * Decides whether a located call may be forwarded (CONTRACT "Gateway"): a Bearer token is present, active and
 * unexpired, its application is subscribed to the API, the key's allowed domains admit the caller
 * (src/gateway/domains.ts), and the API has an endpoint for the key's type. Throws a {@link GatewayError}
 * otherwise. On a warm cache this is no KV read beyond {@link locateCall}'s and no Durable Object call.
 */
export async function authorizeCall(
  options: AuthorizeOptions,
  located: LocatedCall,
): Promise<AuthorizedCall> {
  const { config, request } = options;
  const { api, presented, route, hash, cached } = located;
  if (presented.kind === "none") {
    throw new GatewayError("missing_token", "this API needs an access token: Authorization: Bearer <token>");
  }
  if (!route || !hash) throw invalidToken();

  const key = isFresh(cached.key, Date.now())
    ? (cached.key as KeyFacts)
    : await fetchKey(options, route, cached.unknownKey);
  if (route.shard >= key.shards) throw invalidToken();
  const token = await validateToken(options, route, hash, cached);

  const tier = key.subscriptions[api.id];
  if (tier === undefined) {
    throw new GatewayError(
      "insufficient_scope",
      `application ${key.applicationName} is not subscribed to API ${api.name} ${api.version}`,
      "not_subscribed",
    );
  }
  const domain = checkDomain(key.allowedDomains, {
    origin: request.headers.get("origin"),
    domainHeader: request.headers.get(config.clientDomainHeader),
  });
  if (!domain.ok)
    throw new GatewayError("insufficient_scope", domainRefusal(domain.reason, config), domain.reason);
  const endpoint = key.keyType === "SANDBOX" ? api.sandboxEndpoint : api.productionEndpoint;
  if (!endpoint) {
    throw new GatewayError(
      "insufficient_scope",
      `API ${api.name} ${api.version} has no sandbox endpoint: call it with a PRODUCTION key`,
      "no_sandbox_endpoint",
    );
  }
  const applicationTierName = key.applicationTier ?? UNLIMITED;
  const [subscriptionTier, applicationTier] = (await tierPolicies(options.env, cached.tiers, [
    tier,
    applicationTierName,
  ])) as [TierPolicy, TierPolicy];
  return {
    api,
    remainder: located.remainder,
    endpoint,
    key: { ...key, applicationTier: applicationTierName },
    token,
    tier,
    subscriptionTier,
    applicationTier,
  };
}

/**
 * The limits of the named tiers: from the cached tier table, else the registry's. A tier the registry does not
 * know either (it cannot be deleted while named) leaves the call undecidable: 503, never unthrottled.
 */
async function tierPolicies(env: Env, cached: TierTable | null, names: string[]): Promise<TierPolicy[]> {
  const lookUp = (table: TierTable) =>
    names.map((name) => (name === UNLIMITED ? UNLIMITED_POLICY : table.tiers[name]));
  if (isFresh(cached, Date.now())) {
    const policies = lookUp(cached as TierTable);
    if (policies.every((policy) => policy !== undefined)) return policies as TierPolicy[];
  }
  const policies = lookUp(await authority(() => registryStub(env).gatewayTiers()));
  if (policies.some((policy) => policy === undefined)) {
    console.error(`gateway: unknown tier among ${names.join(", ")}`);
    throw new GatewayError("temporarily_unavailable", "the call's tier could not be found; try again");
  }
  return policies as TierPolicy[];
}

const UNLIMITED_POLICY: TierPolicy = {
  name: UNLIMITED,
  requestCount: null,
  unitTime: null,
  stopOnQuotaReach: true,
};

function domainRefusal(reason: DomainRefusal, config: Config): string {
  const header = config.clientDomainHeader;
  switch (reason) {
    case "domain_header_missing":
      return `this key only accepts calls from its allowed domains: send the ${header} header`;
    case "origin_domain_mismatch":
      return `the Origin and the ${header} header name different hosts`;
    default:
      return `the calling domain (the Origin, or else the ${header} header) is not allowed for this key`;
  }
}

/** The token's validation: from the cache unless a revocation marker shadows it, else from its shard. */
async function validateToken(
  options: AuthorizeOptions,
  route: TokenRoute,
  hash: string,
  cached: CachedFacts,
): Promise<CachedValidation> {
  const { env, config } = options;
  if (cached.revoked) {
    deadTokens.add(hash, Date.now());
    throw invalidToken();
  }
  if (deadTokens.has(hash, Date.now())) throw invalidToken();
  let entry =
    isFresh(cached.validation, Date.now()) && cached.validation?.consumerKey === route.consumerKey
      ? cached.validation
      : null;
  if (!entry) {
    // Taken before asking, so the entry's life is counted from a moment the token was known to be active.
    const validatedAt = Date.now();
    const facts = await authority(() => shardStub(env, route).validateAccessToken(hash));
    if (!facts || facts.consumerKey !== route.consumerKey) {
      deadTokens.add(hash, Date.now());
      throw invalidToken();
    }
    entry = validationEntry(facts, config.gatewayCacheTtl, validatedAt);
    if (cacheEnabled(config.gatewayCacheTtl)) {
      options.background(
        writeValidation(env, hash, entry).catch((error: unknown) =>
          console.error("gateway cache write failed:", error instanceof Error ? error.message : error),
        ),
      );
    }
  }
  // Never trusted past the token's expiry, whatever the cache says.
  if (entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
    deadTokens.add(hash, Date.now());
    throw invalidToken();
  }
  return entry;
}

async function fetchRoutes(env: Env): Promise<RouteTable> {
  return authority(() => registryStub(env).gatewayRoutes());
}

/** The key's facts from the registry, unless this isolate or KV (`knownUnknown`) knows it does not exist. */
async function fetchKey(
  options: AuthorizeOptions,
  route: TokenRoute,
  knownUnknown: boolean,
): Promise<KeyFacts> {
  if (knownUnknown || unknownKeys.has(route.consumerKey, Date.now())) throw invalidToken();
  const key = await authority(() => registryStub(options.env).gatewayKey(route.consumerKey));
  if (!key) {
    unknownKeys.add(route.consumerKey, Date.now());
    if (cacheEnabled(options.config.gatewayCacheTtl)) {
      options.background(markUnknownClient(options.env, route.consumerKey));
    }
    throw invalidToken();
  }
  return key;
}

/** A call to a Durable Object; if it fails, the gateway cannot validate and so does not forward (fail closed). */
async function authority<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    console.error("gateway could not validate:", error instanceof Error ? error.message : error);
    throw new GatewayError("temporarily_unavailable", "the access token could not be validated; try again");
  }
}
