import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { GatewayApi } from "../cache/facts";
import type { CorsConfig, OriginList } from "../core/cors-config";

/**
 * CORS at the gateway (README "Calling an API from a web page", the Fetch standard's CORS protocol):
 * - which origins a page may call an API from: the API's own `corsOrigins` when it has them, else
 *   `CORS_ALLOWED_ORIGINS` (default `*`);
 * - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) under a published API is answered
 *   here, with no token, and never forwarded: Hono's `cors` middleware writes the answer;
 * - every other answer to a call with `Origin`, errors included, names that origin in
 *   `Access-Control-Allow-Origin` when it is allowed, with `Vary: Origin` and the exposed headers;
 * - never `*`, and never `Access-Control-Allow-Credentials`: the gateway's calls carry a bearer token, not
 *   cookies, so a page needs no credentialed request, and a list that allows every origin echoes the origin.
 * The backend's own `Access-Control-*` headers never reach the client: the gateway's decision wins (README).
 */

/** Answer headers a page may read besides the CORS-safelisted ones. */
export const EXPOSED_HEADERS = [
  "WWW-Authenticate",
  "Retry-After",
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
];

/** How long a browser may cache a preflight answer (seconds; Chromium caps it at 7200). */
export const PREFLIGHT_MAX_AGE = 600;

/** Every CORS response header (Fetch §3.2.3): those of a backend are removed, the gateway sets its own. */
const CORS_RESPONSE_HEADERS = [
  "access-control-allow-origin",
  "access-control-allow-credentials",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-allow-private-network",
  "access-control-expose-headers",
  "access-control-max-age",
];

export function isPreflight(request: Request): boolean {
  return (
    request.method === "OPTIONS" &&
    request.headers.has("origin") &&
    request.headers.has("access-control-request-method")
  );
}

/** The origins allowed to call `api` (null: no API matched, so the global setting). */
export function allowedOrigins(api: GatewayApi | null, config: CorsConfig): OriginList {
  return api?.corsOrigins ?? config.allowedOrigins;
}

export function originAllowed(origin: string, allowed: OriginList): boolean {
  if (allowed === "*") return true;
  const lower = origin.trim().toLowerCase();
  return allowed.includes(lower);
}

/** Removes the backend's CORS headers from its answer: the gateway sets its own. */
export function removeCorsHeaders(headers: Headers): void {
  for (const name of CORS_RESPONSE_HEADERS) headers.delete(name);
}

/**
 * Marks an answer to a call that carried `Origin`: `Access-Control-Allow-Origin` (that origin) and the exposed
 * headers when it is allowed; `Vary: Origin` either way, since the answer depends on it. Hono's `cors` middleware
 * is not used for these: it answers every `OPTIONS` request as a preflight, and an `OPTIONS` call that is not a
 * preflight is an API call to forward.
 */
export function addCorsHeaders(headers: Headers, origin: string, allowed: OriginList): void {
  if (originAllowed(origin, allowed)) {
    headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS.join(","));
  }
  headers.append("Vary", "Origin");
}

interface PreflightEnv {
  Variables: { corsAllowedOrigins: OriginList };
}

const preflightHandlers = new WeakMap<CorsConfig, MiddlewareHandler<PreflightEnv>>();

function preflightHandler(config: CorsConfig): MiddlewareHandler<PreflightEnv> {
  let handler = preflightHandlers.get(config);
  if (!handler) {
    handler = cors({
      origin: (origin, c) => (originAllowed(origin, c.get("corsAllowedOrigins")) ? origin : null),
      allowMethods: config.allowedMethods,
      allowHeaders: config.allowedHeaders,
      exposeHeaders: EXPOSED_HEADERS,
      maxAge: PREFLIGHT_MAX_AGE,
    });
    preflightHandlers.set(config, handler);
  }
  return handler;
}

/**
 * The gateway's answer to a preflight: 204, with the `Access-Control-Allow-*` headers and `Max-Age` when the
 * origin is allowed (written by Hono's `cors` middleware), and without any of them when it is not (the browser
 * then does not send the call).
 */
export async function answerPreflight(
  c: Context,
  config: CorsConfig,
  allowed: OriginList,
): Promise<Response> {
  if (!originAllowed(c.req.header("origin") ?? "", allowed)) {
    return new Response(null, { status: 204, headers: { Vary: "Origin" } });
  }
  const context = c as unknown as Context<PreflightEnv>;
  context.set("corsAllowedOrigins", allowed);
  const answer = await preflightHandler(config)(context, async () => undefined);
  if (!(answer instanceof Response)) throw new Error("the CORS middleware did not answer the preflight");
  return answer;
}
