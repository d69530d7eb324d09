import type { Context } from "hono";
import type { GatewayApi } from "../cache/facts";
import { issuerOf } from "../core/issuer";
import { GatewayError } from "../errors/gateway-error";
import type { AppEnv } from "../http/app-env";
import { assertionHeader } from "./assertion-header";
import { type AuthorizeOptions, authorizeCall, locateCall } from "./authorize";
import { addCorsHeaders, allowedOrigins, answerPreflight, isPreflight, removeCorsHeaders } from "./cors";
import { forwardToBackend } from "./forward";
import { identityHeaders, outgoingHeaders } from "./identity-headers";
import { backendUrl } from "./routes";
import { throttleCall } from "./throttle/enforce";

/**
 * The API gateway (README "Gateway"): every request no other route took. A path under a published
 * `/{context}/{version}` is an API call: authorized (src/gateway/authorize.ts), then forwarded to the endpoint
 * of the token's key type with the caller's identity, and the backend's response streamed back. Refusals are
 * RFC 6750 answers; nothing is forwarded unless the call was validated. A browser's preflight is answered here
 * and every answer to a call with `Origin` carries the gateway's CORS headers (src/gateway/cors.ts).
 */
export async function gatewayCall(c: Context<AppEnv>): Promise<Response> {
  const request = c.req.raw;
  const config = c.var.config;
  const origin = request.headers.get("origin");
  const options: AuthorizeOptions = {
    env: c.env,
    config,
    request,
    background: (work) => runInBackground(c, work),
  };
  let api: GatewayApi | null = null;
  let response: Response;
  try {
    const located = await locateCall(options);
    api = located.api;
    if (isPreflight(request)) return await answerPreflight(c, config.cors, allowedOrigins(api, config.cors));
    const call = await authorizeCall(options, located);
    const throttle = await throttleCall(c.env, config, {
      applicationId: call.key.applicationId,
      apiId: call.api.id,
      subscriptionTier: call.subscriptionTier,
      applicationTier: call.applicationTier,
    });
    const url = new URL(request.url);
    const assertion = await assertionHeader(c.env, config, call, issuerOf(config, request));
    response = await forwardToBackend({
      target: backendUrl(call.endpoint, call.remainder, url.search),
      method: request.method,
      headers: outgoingHeaders({
        incoming: request.headers,
        identity: {
          ...identityHeaders(call),
          ...assertion,
          ...(throttle.throttled ? { [THROTTLED_HEADER]: "true" } : {}),
        },
        reserved: [config.jwtHeader],
        removeAuthorization: config.removeOAuthHeadersFromOutMessage,
        requestUrl: url,
      }),
      body: request.body,
    });
    removeCorsHeaders(response.headers);
    for (const [name, value] of Object.entries(throttle.headers)) response.headers.set(name, value);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    // The client's body was not read: drop it rather than leave it pending.
    request.body?.cancel().catch(() => undefined);
    response = error.getResponse();
  }
  if (origin !== null) addCorsHeaders(response.headers, origin, allowedOrigins(api, config.cors));
  return response;
}

/** Tells the backend that the call is over its tier's limit (a tier without stop on quota reach). */
const THROTTLED_HEADER = "X-Ekm-Throttled";

function runInBackground(c: Context, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (e.g. app.fetch without one): the promise still runs, unobserved.
  }
}
