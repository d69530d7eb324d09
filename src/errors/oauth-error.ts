import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { OAuthErrorCode, OAuthFailure } from "../core/oauth-failure";
import { jsonResponse, NO_STORE } from "../core/responses";
import { HttpError } from "./http-error";

const STATUS: Record<OAuthErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  unsupported_token_type: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
};

/** RFC 6749 §5.2: a 401 for a failed client authentication carries the scheme the client should use. */
export const BASIC_CHALLENGE = 'Basic realm="edge-key-manager", charset="UTF-8"';

/** An RFC 6749 §5.2 error response: `{"error", "error_description"}`, never cached. */
export class OAuthError extends HttpError {
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    options: { status?: ContentfulStatusCode; headers?: Record<string, string> } = {},
  ) {
    super(options.status ?? STATUS[code], { message: `${code}: ${description}` });
    this.name = "OAuthError";
    this.headers = Object.freeze({ ...options.headers });
  }

  /** The error for a refusal a Durable Object answered with (or a scope rule threw). */
  static from(failure: OAuthFailure): OAuthError {
    if (failure.error === "invalid_client") return invalidClient(failure.description, failure.retryAfter);
    return new OAuthError(failure.error, failure.description);
  }

  override getResponse(): Response {
    return jsonResponse({ error: this.code, error_description: this.description }, this.status, {
      ...NO_STORE,
      ...this.headers,
    });
  }
}

/** RFC 6749 §5.2 invalid_client: 401 with a Basic challenge, and `Retry-After` while the client is locked out. */
export function invalidClient(description: string, retryAfter?: number): OAuthError {
  const headers: Record<string, string> = { "WWW-Authenticate": BASIC_CHALLENGE };
  if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
  return new OAuthError("invalid_client", description, { status: 401, headers });
}
