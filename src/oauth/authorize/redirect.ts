import type { OAuthErrorCode } from "../../core/oauth-failure";

/**
 * Authorization responses back to the client's redirect URI. The code flow answers in the query component
 * (RFC 6749 §4.1.2), the implicit flow in the fragment (§4.2.2). The redirect URI's own query is kept
 * (§3.1.2). Every response carries `iss` (RFC 9207) so a client talking to several servers can tell them apart.
 */
export type ResponseMode = "query" | "fragment";

export interface RedirectTarget {
  redirectUri: string;
  mode: ResponseMode;
  state: string | null;
  issuer: string;
}

/** Error codes the authorization endpoint may send back (RFC 6749 §4.1.2.1, §4.2.2.1). */
export type AuthorizationErrorCode = Extract<
  OAuthErrorCode,
  | "invalid_request"
  | "unauthorized_client"
  | "access_denied"
  | "unsupported_response_type"
  | "invalid_scope"
  | "server_error"
  | "temporarily_unavailable"
>;

export function responseModeFor(responseType: string | undefined): ResponseMode {
  return responseType === "token" ? "fragment" : "query";
}

/** The redirect URI with `params` (and `state`, `iss`) added in the query or the fragment. */
export function redirectUrl(target: RedirectTarget, params: Record<string, string>): string {
  const encoded = new URLSearchParams(params);
  if (target.state !== null) encoded.set("state", target.state);
  encoded.set("iss", target.issuer);
  if (target.mode === "fragment") return `${target.redirectUri}#${encoded.toString()}`;
  const separator = target.redirectUri.includes("?") ? "&" : "?";
  return `${target.redirectUri}${separator}${encoded.toString()}`;
}

export function errorRedirectUrl(
  target: RedirectTarget,
  error: AuthorizationErrorCode,
  description: string,
): string {
  return redirectUrl(target, { error, error_description: description });
}

/** A redirect the browser follows: 302 for the GET of /authorize, 303 after a form POST (RFC 9110 §15.4.4). */
export function redirectResponse(location: string, status: 302 | 303): Response {
  return new Response(null, {
    status,
    headers: {
      Location: location,
      "Cache-Control": "no-store",
      Pragma: "no-cache",
      "Referrer-Policy": "no-referrer",
    },
  });
}
