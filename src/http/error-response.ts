import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { Refusal } from "../core/oauth-failure";
import { HttpError } from "../errors/http-error";
import { OAuthError } from "../errors/oauth-error";

/**
 * `app.onError`: dispatches only. The service's errors render themselves (src/errors/); a refusal from below
 * the HTTP layer is an OAuth error; an `HTTPException` of Hono's own is a bad request. Anything else is a
 * server fault: logged without request data (which may hold secrets) and answered with a generic 500.
 */
export function errorResponse(error: unknown, c: Context): Response {
  if (error instanceof HttpError) return error.getResponse();
  if (error instanceof Refusal) return OAuthError.from(error.failure).getResponse();
  if (error instanceof HTTPException) {
    return new OAuthError("invalid_request", error.message, { status: error.status }).getResponse();
  }
  console.error(
    `unhandled error on ${c.req.method} ${new URL(c.req.url).pathname}:`,
    error instanceof Error ? error.stack : error,
  );
  return new OAuthError("server_error", "internal error").getResponse();
}
