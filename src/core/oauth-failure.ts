/**
 * Client-caused failures below the HTTP layer. Code there (the Durable Objects, the scope rules) throws a
 * {@link Refusal}; a Durable Object's RPC method answers it as plain data, because class instances do not survive
 * structured cloning, and the Worker turns the data into an `OAuthError` (src/errors/oauth-error.ts), which
 * renders the RFC 6749 §5.2 response.
 */

/** RFC 6749 §5.2 error codes, plus RFC 6750 §3.1, RFC 7009 §2.2.1 and RFC 8693 §2.2.2 ones. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "invalid_target"
  | "unsupported_token_type"
  | "access_denied"
  | "unsupported_response_type"
  | "server_error"
  | "temporarily_unavailable";

/** A refusal as data. */
export interface OAuthFailure {
  error: OAuthErrorCode;
  description: string;
  /** Seconds until a locked-out client may try again (RFC 9110 §10.2.3 `Retry-After`). */
  retryAfter?: number;
}

export class Refusal extends Error {
  constructor(readonly failure: OAuthFailure) {
    super(`${failure.error}: ${failure.description}`);
    this.name = "Refusal";
  }
}

export function refuse(error: OAuthErrorCode, description: string, retryAfter?: number): Refusal {
  return new Refusal(retryAfter === undefined ? { error, description } : { error, description, retryAfter });
}
