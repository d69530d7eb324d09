import { cacheEnabled, isFresh } from "../cache/cache-policy";
import { type CacheFound, readGatewayCache } from "../cache/cache-read";
import type { CachedValidation, GatewayApi, KeyFacts, RouteTable, TierTable } from "../cache/facts";
import { gatewayMemory } from "../cache/gateway-memory";
import { markUnknownClient } from "../cache/unknown-clients";
import { isRevocationMarker } from "../cache/validation-cache";
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
  /** Runs work after the response (the unknown-client marker); `ctx.waitUntil` in the Worker. */
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
  cached: CacheFound;
}

const NOTHING_CACHED: CacheFound = {
  token: null,
  version: undefined,
  routes: null,
  tiers: null,
  key: null,
  unknownKey: false,
};

/**
 * Finds the API a request calls (404 when none is published there). Reads KV once (README "Validation cache"):
 * the token's entry, and with it only what isolate memory lacks (src/cache/gateway-memory.ts). A preflight stops
 * here: it needs no token.
 */
export async function locateCall(options: AuthorizeOptions): Promise<LocatedCall> {
  const { env, config, request } = options;
  const caching = cacheEnabled(config.gatewayCacheTtl);
  const presented = readBearerToken(request.headers);
  const route = presented.kind === "token" ? parseTokenRoute(presented.token) : null;
  const hash = route && presented.kind === "token" ? await hashSecret(presented.token) : null;

  let cached = NOTHING_CACHED;
  const now = Date.now();
  if (caching) {
    const memory = gatewayMemory;
    const consumerKey = route !== null && hash !== null ? route.consumerKey : null;
    const missing = () => ({
      routes: memory.routeTable(now) === null,
      // The tier table only where a limited tier may apply (Unlimited needs none, and KV may have none).
      tiers:
        consumerKey !== null && memory.tierTable(now) === null && mayBeLimited(memory.key(consumerKey, now)),
      key: consumerKey !== null && memory.key(consumerKey, now) === null ? consumerKey : null,
    });
    const hold = (found: CacheFound) => {
      if (found.routes) memory.holdRoutes(found.routes, now);
      if (found.tiers) memory.holdTiers(found.tiers, now);
      if (found.key) memory.holdKey(found.key, now);
    };
    cached = await readGatewayCache(env, {
      tokenHash: hash,
      version: memory.versionDue(now, config.gatewayFactsRefresh * 1000),
      ...missing(),
    });
    if (cached.version !== undefined) memory.observeVersion(cached.version, now);
    hold(cached);
    // A new version dropped what memory held: read what this call needs again (rare: once per admin change).
    // (The tier table, if needed, comes from the registry in authorizeCall.)
    const stillMissing = { ...missing(), tiers: false };
    if (stillMissing.routes || stillMissing.key !== null) {
      const again = await readGatewayCache(env, { tokenHash: null, version: false, ...stillMissing });
      hold(again);
      cached = { ...cached, unknownKey: cached.unknownKey || again.unknownKey };
    }
  }

  const url = new URL(request.url);
  const routes = (caching ? gatewayMemory.routeTable(now) : null) ?? (await fetchRoutes(env, caching));
  const match = matchApi(routes.apis, url.pathname);
  if (!match) throw new GatewayError("not_found", `no API is published at ${url.pathname}`);
  return { api: match.api, remainder: match.remainder, presented, route, hash, cached };
}

/**
 * Decides whether a located call may be forwarded (README "Gateway"): a Bearer token is present, active and
 * unexpired, its application is subscribed to the API, the key's allowed domains admit the caller
 * (src/gateway/domains.ts), and the API has an endpoint for the key's type; and finds the limits of the call's
 * tiers. Throws a {@link GatewayError} otherwise. On a warm cache this is no KV read beyond {@link locateCall}'s
 * and no Durable Object call.
 */
export async function authorizeCall(
  options: AuthorizeOptions,
  located: LocatedCall,
): Promise<AuthorizedCall> {
  const { env, config, request } = options;
  const { api, presented, route, hash, cached } = located;
  if (presented.kind === "none") {
    throw new GatewayError("missing_token", "this API needs an access token: Authorization: Bearer <token>");
  }
  if (!route || !hash) throw invalidToken();
  const caching = cacheEnabled(config.gatewayCacheTtl);

  const key =
    (caching ? gatewayMemory.key(route.consumerKey, Date.now()) : null) ??
    (await fetchKey(options, route, cached.unknownKey));
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
  // Facts published before applications had a tier carry none: WSO2's default.
  const applicationTierName = key.applicationTier ?? UNLIMITED;
  const [subscriptionTier, applicationTier] = (await tierPolicies(env, caching, [
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

/** Whether a key's calls may have a limited tier: unknown facts may; all-Unlimited facts may not. */
function mayBeLimited(key: KeyFacts | null): boolean {
  if (key === null) return true;
  if ((key.applicationTier ?? UNLIMITED) !== UNLIMITED) return true;
  return Object.values(key.subscriptions).some((tier) => tier !== UNLIMITED);
}

const UNLIMITED_POLICY: TierPolicy = {
  name: UNLIMITED,
  requestCount: null,
  unitTime: null,
  stopOnQuotaReach: true,
};

/**
 * The limits of the named tiers: from memory, else the registry's table. A tier the registry does not know
 * either (it cannot be deleted while named) leaves the call undecidable: 503, never unthrottled.
 */
async function tierPolicies(env: Env, caching: boolean, names: string[]): Promise<TierPolicy[]> {
  const lookUp = (table: TierTable) =>
    names.map((name) => (name === UNLIMITED ? UNLIMITED_POLICY : table.tiers[name]));
  if (names.every((name) => name === UNLIMITED)) return names.map(() => UNLIMITED_POLICY);
  const held = caching ? gatewayMemory.tierTable(Date.now()) : null;
  if (held) {
    const policies = lookUp(held);
    if (policies.every((policy) => policy !== undefined)) return policies as TierPolicy[];
  }
  const table = await authority(() => registryStub(env).gatewayTiers());
  if (caching && isFresh(table, Date.now())) gatewayMemory.holdTiers(table, Date.now());
  const policies = lookUp(table);
  if (policies.some((policy) => policy === undefined)) {
    console.error(`gateway: unknown tier among ${names.join(", ")}`);
    throw new GatewayError("temporarily_unavailable", "the call's tier could not be found; try again");
  }
  return policies as TierPolicy[];
}

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

/**
 * The token's validation: from its KV entry unless that is a revocation marker, else from its shard, which
 * also writes the entry for the next call (src/durable/shard/gateway-fills.ts).
 */
async function validateToken(
  options: AuthorizeOptions,
  route: TokenRoute,
  hash: string,
  cached: CacheFound,
): Promise<CachedValidation> {
  const { env, config } = options;
  if (cached.token && isRevocationMarker(cached.token)) {
    deadTokens.add(hash, Date.now());
    throw invalidToken();
  }
  if (deadTokens.has(hash, Date.now())) throw invalidToken();
  let entry =
    cached.token && isFresh(cached.token, Date.now()) && cached.token.consumerKey === route.consumerKey
      ? cached.token
      : null;
  if (!entry) {
    const facts = await authority(() =>
      shardStub(env, route).validateAccessToken(hash, config.gatewayCacheTtl),
    );
    if (!facts || facts.consumerKey !== route.consumerKey) {
      deadTokens.add(hash, Date.now());
      throw invalidToken();
    }
    entry = {
      consumerKey: facts.consumerKey,
      keyType: facts.keyType,
      user: facts.user,
      isApplicationToken: facts.isApplicationToken,
      scope: facts.scope,
      expiresAt: facts.expiresAt,
      staleAt: Date.now(),
    };
  }
  // Never trusted past the token's expiry, whatever the cache says.
  if (entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
    deadTokens.add(hash, Date.now());
    throw invalidToken();
  }
  return entry;
}

async function fetchRoutes(env: Env, caching: boolean): Promise<RouteTable> {
  const table = await authority(() => registryStub(env).gatewayRoutes());
  if (caching && isFresh(table, Date.now())) gatewayMemory.holdRoutes(table, Date.now());
  return table;
}

/** The key's facts from the registry, unless this isolate or KV (`knownUnknown`) knows it does not exist. */
async function fetchKey(
  options: AuthorizeOptions,
  route: TokenRoute,
  knownUnknown: boolean,
): Promise<KeyFacts> {
  const { env, config } = options;
  const caching = cacheEnabled(config.gatewayCacheTtl);
  if (knownUnknown || unknownKeys.has(route.consumerKey, Date.now())) throw invalidToken();
  const key = await authority(() => registryStub(env).gatewayKey(route.consumerKey));
  if (!key) {
    unknownKeys.add(route.consumerKey, Date.now());
    if (caching) options.background(markUnknownClient(env, route.consumerKey));
    throw invalidToken();
  }
  if (caching && isFresh(key, Date.now())) gatewayMemory.holdKey(key, Date.now());
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
