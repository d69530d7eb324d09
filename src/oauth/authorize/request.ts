import { type OAuthErrorCode, Refusal } from "../../core/oauth-failure";
import { grantScope } from "../../core/scope";
import { findAuthorizationClient } from "./client";
import {
  type AuthorizationErrorCode,
  type RedirectTarget,
  type ResponseMode,
  responseModeFor,
} from "./redirect";

/**
 * A validated authorization request (RFC 6749 §4.1.1, §4.2.1; RFC 7636 §4.3). It travels, signed, through
 * the login and consent forms, so it holds only what the browser already sent in the URL plus the name of
 * the application to show.
 */
export interface AuthorizationRequest {
  clientId: string;
  applicationName: string;
  responseType: "code" | "token";
  redirectUri: string;
  /** Whether `redirect_uri` was in the request (then /token must repeat it, RFC 6749 §4.1.3). */
  redirectUriSent: boolean;
  /** The scope that will be granted (RFC 6749 §3.3), `default` when none was asked for. */
  scope: string;
  state: string | null;
  /** S256 challenge (RFC 7636 §4.2) or null. */
  codeChallenge: string | null;
}

/** An error shown on a page: the redirect URI is not (yet) trusted, so nothing is sent to it (§4.1.2.1). */
export interface PageError {
  status: 400;
  error: OAuthErrorCode;
  description: string;
}

export type RequestValidation =
  | { kind: "valid"; request: AuthorizationRequest }
  | { kind: "show"; error: PageError }
  | {
      kind: "redirect";
      target: RedirectTarget;
      error: AuthorizationErrorCode;
      description: string;
    };

/** RFC 7636 §4.2: BASE64URL(SHA-256(verifier)) is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_STATE = 2048;
const MAX_SCOPE = 1024;
/** Parameters that must not be repeated (RFC 6749 §3.1). */
const SINGLE_VALUED = [
  "response_type",
  "scope",
  "state",
  "code_challenge",
  "code_challenge_method",
  "response_mode",
] as const;

/** RFC 6749 §3.1: a parameter sent without a value is treated as omitted. */
function values(query: URLSearchParams, name: string): string[] {
  return query.getAll(name).filter((value) => value !== "");
}

const show = (error: OAuthErrorCode, description: string): RequestValidation => ({
  kind: "show",
  error: { status: 400, error, description },
});

/** Finds the redirect URI to trust (RFC 6749 §3.1.2.3: exact match of a registered one), or a page error. */
function resolveRedirectUri(
  query: URLSearchParams,
  callbackUrls: string[],
): { uri: string; sent: boolean } | PageError {
  const sent = values(query, "redirect_uri");
  const fail = (description: string): PageError => ({ status: 400, error: "invalid_request", description });
  if (sent.length > 1) return fail("redirect_uri is repeated");
  const [uri] = sent;
  if (uri !== undefined) {
    if (callbackUrls.includes(uri)) return { uri, sent: true };
    return fail("redirect_uri does not match any callback URL registered for this application");
  }
  const [only] = callbackUrls;
  if (callbackUrls.length === 1 && only !== undefined) return { uri: only, sent: false };
  if (callbackUrls.length === 0) {
    return fail("the application has no registered callback URL; register one to use browser sign-in");
  }
  return fail("redirect_uri is required: the application has several registered callback URLs");
}

/**
 * Validates `GET /authorize`. Until the client and its redirect URI are known to be genuine, errors are for a
 * page; after that they go back to the client (RFC 6749 §4.1.2.1, §4.2.2.1).
 */
export async function validateAuthorizationRequest(
  env: Env,
  query: URLSearchParams,
  issuer: string,
): Promise<RequestValidation> {
  const clientIds = values(query, "client_id");
  if (clientIds.length > 1) return show("invalid_request", "client_id is repeated");
  const [clientId] = clientIds;
  if (clientId === undefined) return show("invalid_request", "missing parameter client_id");
  const known = await findAuthorizationClient(env, clientId);
  if (!known) return show("invalid_client", "unknown client_id");
  const { client } = known;
  const redirect = resolveRedirectUri(query, client.callbackUrls);
  if ("error" in redirect) return { kind: "show", error: redirect };

  // From here on the redirect URI is trusted.
  const states = values(query, "state");
  const responseTypes = values(query, "response_type");
  // A repeated state cannot be echoed (which one?), nor can an oversized one be round-tripped.
  const state = states.length === 1 ? (states[0] as string) : null;
  const target: RedirectTarget = {
    redirectUri: redirect.uri,
    mode: responseModeFor(responseTypes.length === 1 ? responseTypes[0] : undefined),
    state: state !== null && state.length <= MAX_STATE ? state : null,
    issuer,
  };
  const fail = (error: AuthorizationErrorCode, description: string): RequestValidation => ({
    kind: "redirect",
    target,
    error,
    description,
  });

  for (const name of SINGLE_VALUED) {
    if (values(query, name).length > 1) return fail("invalid_request", `${name} is repeated`);
  }
  if (state !== null && state.length > MAX_STATE) {
    return fail("invalid_request", `state must be at most ${MAX_STATE} characters`);
  }

  // RFC 6749 §3.1.1: a space-delimited set; only `code` and `token` alone are served.
  const rawType = responseTypes[0];
  if (rawType === undefined) return fail("invalid_request", "missing parameter response_type");
  const typeSet = [...new Set(rawType.split(" ").filter((part) => part !== ""))];
  const responseType = typeSet.length === 1 ? typeSet[0] : undefined;
  if (responseType !== "code" && responseType !== "token") {
    return fail("unsupported_response_type", `response_type ${rawType} is not supported; use code`);
  }

  const responseMode = values(query, "response_mode")[0];
  const expectedMode: ResponseMode = responseModeFor(responseType);
  if (responseMode !== undefined && responseMode !== expectedMode) {
    return fail("invalid_request", `response_mode ${responseMode} is not supported for ${responseType}`);
  }

  // RFC 9700 §2.1.2: the implicit grant is deprecated; an application can switch it off.
  if (responseType === "token" && !client.implicitEnabled) {
    return fail("unauthorized_client", "the implicit grant is disabled for this application; use code");
  }

  const rawScope = values(query, "scope")[0] ?? null;
  if (rawScope !== null && rawScope.length > MAX_SCOPE) {
    return fail("invalid_scope", `scope must be at most ${MAX_SCOPE} characters`);
  }
  let scope: string;
  try {
    scope = grantScope(rawScope, client.keyType);
  } catch (error) {
    if (error instanceof Refusal) return fail("invalid_scope", error.failure.description);
    throw error;
  }

  let codeChallenge: string | null = null;
  if (responseType === "code") {
    const challenge = values(query, "code_challenge")[0];
    const method = values(query, "code_challenge_method")[0];
    if (challenge === undefined && method !== undefined) {
      return fail("invalid_request", "code_challenge_method was sent without code_challenge");
    }
    if (challenge !== undefined) {
      // RFC 7636 §4.3 makes `plain` the default; it protects nothing against a leaked request, so it is refused.
      if (method === undefined) {
        return fail(
          "invalid_request",
          "code_challenge_method is required and must be S256 (plain is not supported)",
        );
      }
      if (method !== "S256") {
        return fail("invalid_request", `code_challenge_method ${method} is not supported; use S256`);
      }
      if (!S256_CHALLENGE.test(challenge)) {
        return fail(
          "invalid_request",
          "code_challenge must be the base64url SHA-256 of the code_verifier (43 characters, RFC 7636 §4.2)",
        );
      }
      codeChallenge = challenge;
    }
  }

  return {
    kind: "valid",
    request: {
      clientId,
      applicationName: client.applicationName,
      responseType,
      redirectUri: redirect.uri,
      redirectUriSent: redirect.sent,
      scope,
      state: target.state,
      codeChallenge,
    },
  };
}

/** Where errors and results for an already-validated request go. */
export function targetOf(request: AuthorizationRequest, issuer: string): RedirectTarget {
  return {
    redirectUri: request.redirectUri,
    mode: responseModeFor(request.responseType),
    state: request.state,
    issuer,
  };
}
