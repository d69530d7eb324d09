import type { Context } from "hono";
import { GatewayError } from "../errors/gateway-error";
import type { AppEnv } from "../http/app-env";
import { assertionHeader } from "./assertion-header";
import { authorizeCall } from "./authorize";
import { forwardToBackend } from "./forward";
import { identityHeaders, outgoingHeaders } from "./identity-headers";
import { backendUrl } from "./routes";

/**
 * The API gateway (README "Gateway"): every request no other route took. A path under a published
 * `/{context}/{version}` is an API call: authorized (src/gateway/authorize.ts), then forwarded to the endpoint
 * of the token's key type with the caller's identity, and the backend's response streamed back. Refusals are
 * RFC 6750 answers; nothing is forwarded unless the call was validated.
 */
export async function gatewayCall(c: Context<AppEnv>): Promise<Response> {
  const request = c.req.raw;
  const config = c.var.config;
  try {
    const call = await authorizeCall({
      env: c.env,
      config,
      request,
      background: (work) => runInBackground(c, work),
    });
    const url = new URL(request.url);
    const assertion = await assertionHeader(c.env, config, call, url.origin);
    return await forwardToBackend({
      target: backendUrl(call.endpoint, call.remainder, url.search),
      method: request.method,
      headers: outgoingHeaders({
        incoming: request.headers,
        identity: { ...identityHeaders(call), ...assertion },
        reserved: [config.jwtHeader],
        removeAuthorization: config.removeOAuthHeadersFromOutMessage,
        requestUrl: url,
      }),
      body: request.body,
    });
  } catch (error) {
    // The client's body was not read: drop it rather than leave it pending. The error becomes a response in
    // src/http/error-response.ts, like every other.
    if (error instanceof GatewayError) request.body?.cancel().catch(() => undefined);
    throw error;
  }
}

function runInBackground(c: Context, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (e.g. app.fetch without one): the promise still runs, unobserved.
  }
}
