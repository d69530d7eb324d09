import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { jsonResponse, NO_STORE } from "../core/responses";
import { AdminError } from "../errors/admin-error";
import { GatewayError } from "../errors/gateway-error";
import { OAuthError } from "../errors/oauth-error";

/**
 * The one place errors become responses. OAuth errors get RFC 6749 §5.2 bodies (with their own status and
 * headers, e.g. `WWW-Authenticate` for invalid_client), admin errors `{"error","message"}`. Anything else is
 * a server fault: logged without request data (which may hold secrets) and answered with a generic 500.
 */
export function errorResponse(error: unknown, c: Context): Response {
  if (error instanceof OAuthError) {
    return jsonResponse(error.toJSON(), error.status, { ...NO_STORE, ...error.headers });
  }
  if (error instanceof GatewayError) return error.toResponse();
  if (error instanceof AdminError) {
    const headers: Record<string, string> =
      error.status === 401 ? { "WWW-Authenticate": 'Bearer realm="edge-key-manager admin"' } : {};
    return jsonResponse({ error: error.code, message: error.message }, error.status, headers);
  }
  if (error instanceof HTTPException) {
    return jsonResponse({ error: "invalid_request", error_description: error.message }, error.status);
  }
  console.error(
    `unhandled error on ${c.req.method} ${new URL(c.req.url).pathname}:`,
    error instanceof Error ? error.stack : error,
  );
  return jsonResponse({ error: "server_error", error_description: "internal error" }, 500, NO_STORE);
}
