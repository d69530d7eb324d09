import type { ContentfulStatusCode } from "hono/utils/http-status";
import { jsonResponse, NO_STORE } from "../core/responses";
import { HttpError } from "./http-error";

/**
 * Why the gateway did not forward a call. RFC 6750 §3 for the token: 401 with a bare `WWW-Authenticate:
 * Bearer` when no token came, `error="invalid_token"` for a bad, expired or revoked one, 403 with
 * `error="insufficient_scope"` for a valid token that may not call this API (the JSON `reason` says why).
 * The rest are the gateway's own: 404 (no API there), 502/504 (backend), 503 (could not validate: fail closed).
 */
export type GatewayErrorCode =
  | "missing_token"
  | "invalid_token"
  | "insufficient_scope"
  | "not_found"
  | "bad_gateway"
  | "gateway_timeout"
  | "temporarily_unavailable"
  | "throttled";

export type ForbiddenReason =
  | "not_subscribed"
  | "domain_header_missing"
  | "domain_not_allowed"
  | "origin_domain_mismatch"
  | "no_sandbox_endpoint";

const STATUS: Record<GatewayErrorCode, ContentfulStatusCode> = {
  missing_token: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  not_found: 404,
  throttled: 429,
  bad_gateway: 502,
  temporarily_unavailable: 503,
  gateway_timeout: 504,
};

const CHALLENGE: Partial<Record<GatewayErrorCode, string>> = {
  missing_token: "Bearer",
  invalid_token: 'Bearer error="invalid_token"',
  insufficient_scope: 'Bearer error="insufficient_scope"',
};

export class GatewayError extends HttpError {
  constructor(
    readonly code: GatewayErrorCode,
    readonly description: string,
    readonly reason?: ForbiddenReason,
  ) {
    super(STATUS[code], { message: `${code}: ${description}` });
    this.name = "GatewayError";
  }

  override getResponse(): Response {
    const headers: Record<string, string> = { ...NO_STORE };
    const challenge = CHALLENGE[this.code];
    if (challenge) headers["WWW-Authenticate"] = challenge;
    if (this.code === "temporarily_unavailable") headers["Retry-After"] = "1";
    const body: Record<string, string> = { error: this.code, error_description: this.description };
    if (this.reason) body.reason = this.reason;
    return jsonResponse(body, this.status, headers);
  }
}

/**
 * Over a tier's limit with stop on quota reach (README "Throttling"): 429 with `Retry-After` (seconds until
 * the window frees a request), the RateLimit headers and `{"error":"throttled","tier","level"}`.
 */
export class ThrottledError extends GatewayError {
  constructor(
    readonly tier: string,
    readonly level: "subscription" | "application",
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super("throttled", `over the ${level} tier ${tier}`);
  }

  override getResponse(): Response {
    const retryAfter = String(this.retryAfterSeconds);
    return jsonResponse({ error: "throttled", tier: this.tier, level: this.level }, 429, {
      ...NO_STORE,
      "Retry-After": retryAfter,
      "RateLimit-Limit": String(this.limit),
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": retryAfter,
    });
  }
}
