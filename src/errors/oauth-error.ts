/**
 * Errors as typed exceptions; `src/http/error-response.ts` turns them into responses in one place.
 */

/** RFC 6749 §5.2 error codes, plus RFC 6750 §3.1 and RFC 7009 §2.2.1 ones. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "unsupported_token_type"
  | "access_denied"
  | "unsupported_response_type"
  | "server_error"
  | "temporarily_unavailable";

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  unsupported_token_type: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
};

export class OAuthError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(`${code}: ${description}`);
    this.name = "OAuthError";
    this.status = options.status ?? STATUS[code];
    this.headers = options.headers ?? {};
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

/**
 * A plain-data error that crosses a Durable Object RPC boundary intact (class instances do not survive
 * structured cloning). Durable Objects return `{ error }` instead of throwing for client-caused failures.
 */
export interface OAuthErrorData {
  error: OAuthErrorCode;
  description: string;
  status?: number;
  headers?: Record<string, string>;
}

export function oauthErrorData(error: OAuthError): OAuthErrorData {
  return { error: error.code, description: error.description, status: error.status, headers: error.headers };
}

export function fromErrorData(data: OAuthErrorData): OAuthError {
  return new OAuthError(data.error, data.description, {
    ...(data.status !== undefined ? { status: data.status } : {}),
    ...(data.headers ? { headers: data.headers } : {}),
  });
}

export const BASIC_CHALLENGE = 'Basic realm="edge-key-manager", charset="UTF-8"';

export function invalidClient(description: string): OAuthError {
  return new OAuthError("invalid_client", description, {
    status: 401,
    headers: { "WWW-Authenticate": BASIC_CHALLENGE },
  });
}
