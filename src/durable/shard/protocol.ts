import type { ClientCredentials } from "../../core/client-credentials";
import type { KeyType } from "../../core/client-record";
import type { OAuthFailure } from "../../core/oauth-failure";
import type { TokenRoute } from "../../core/token-format";

/** RFC 6749 §5.1 success body. */
export interface TokenResponseBody {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  refresh_token?: string;
  /** RFC 8693 §2.2.1, token exchange only. */
  issued_token_type?: string;
}

/** What token exchange (RFC 8693) needs to know about a subject token: only an active access token has one. */
export interface SubjectToken {
  /** Null for an application token (no end user). */
  user: string | null;
  scope: string;
  keyType: KeyType;
  tenant: string;
  /** The credential epoch the token's grant was checked at (src/durable/user-epoch.ts). */
  userEpoch: number;
}

/**
 * What every shard RPC that can refuse returns: a value or a refusal (plain data: class instances do not cross
 * the RPC boundary). `purge` lists hashes of access tokens the call revoked that the gateway has validated
 * (only those can be cached; see TokenTable.markGatewaySeen), for the caller to drop from the gateway's
 * validation cache before it answers; a refusal can carry some too (a reused refresh token revokes its grant).
 */
export type ShardResult<T> =
  | { ok: true; value: T; purge: string[] }
  | { ok: false; failure: OAuthFailure; purge: string[] };

export const accepted = <T>(value: T, purge: string[] = []): ShardResult<T> => ({ ok: true, value, purge });
export const refused = (failure: OAuthFailure, purge: string[] = []): ShardResult<never> => ({
  ok: false,
  failure,
  purge,
});

/** A consent form being answered (README "Browser flows"): its nonce is spent where the answer is issued. */
export interface ConsentForm {
  /** Random value signed into the form; stored as its SHA-256 once used. */
  nonce: string;
  /** Epoch ms after which the form no longer verifies (and need not be remembered). */
  expiresAt: number;
}

/** The refusal of a consent form submitted a second time. */
export const CONSENT_FORM_USED = "this consent form was already submitted; start the sign-in again";

export interface IssueRequest {
  route: TokenRoute;
  /** The metadata's issuer (the origin called): the `iss` of a JWT access token. */
  issuer: string;
  credentials: ClientCredentials;
  grantType: string;
  scope: string | null;
  /** Canonical user the token is for, already authenticated by the grant; null for an application token. */
  user: string | null;
  withRefresh: boolean;
  /** Accept a client that presents only its client_id (public clients of grants that allow it). */
  allowPublic?: boolean;
  /** The consent form this answers (implicit grant): single use. */
  consentForm?: ConsentForm;
  /** The user's credential epoch the grant was checked at (src/durable/user-epoch.ts); required with a user. */
  userEpoch?: number;
}

export interface RefreshRequest {
  route: TokenRoute;
  /** The metadata's issuer (the origin called): the `iss` of a JWT access token. */
  issuer: string;
  credentials: ClientCredentials;
  refreshToken: string;
  scope: string | null;
}

export interface RevokeRequest {
  route: TokenRoute;
  credentials: ClientCredentials;
  token: string;
  hint: "access_token" | "refresh_token" | null;
}

/** Headers of a successful WSO2 revocation; absent when nothing was revoked. */
export interface RevocationOutcome {
  revokedAccessToken?: string;
  revokedRefreshToken?: string;
  authorizedUser?: string;
}

/** RFC 7662 §2.2 response. */
export type Introspection =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      username: string;
      token_type: string;
      exp?: number;
      iat: number;
      sub: string;
      key_type: KeyType;
    };

/** What the authorization endpoint needs to know about a client (RFC 6749 §3.1, §3.1.2). */
export interface AuthorizationClient {
  consumerKey: string;
  applicationName: string;
  keyType: KeyType;
  tenant: string;
  callbackUrls: string[];
  implicitEnabled: boolean;
}

/** Mint an authorization code for a user who approved the request (RFC 6749 §4.1.2). */
export interface CodeIssueRequest {
  route: TokenRoute;
  /** Canonical user name, authenticated at the login page. */
  user: string;
  scope: string;
  /** The redirect URI the code is bound to (the registered one when the request named none). */
  redirectUri: string;
  /** Whether the authorization request carried `redirect_uri` (then /token must repeat it, RFC 6749 §4.1.3). */
  redirectUriSent: boolean;
  /** RFC 7636 §4.2 S256 challenge, or null for a request without PKCE. */
  codeChallenge: string | null;
  /** The consent form this answers: single use. */
  consentForm: ConsentForm;
  /** The user's credential epoch the login form checked (src/durable/user-epoch.ts). */
  userEpoch: number;
}

/** Redeem an authorization code at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5). */
export interface CodeRedeemRequest {
  route: TokenRoute;
  /** The metadata's issuer (the origin called): the `iss` of a JWT access token. */
  issuer: string;
  credentials: ClientCredentials;
  code: string;
  redirectUri: string | null;
  codeVerifier: string | null;
}
