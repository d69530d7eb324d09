import type { OAuthErrorData } from "../../errors";
import type { ClientCredentials } from "../../oauth/client-credentials";
import type { TokenRoute } from "../../oauth/token-format";
import type { KeyType } from "../client-record";

/** RFC 6749 §5.1 success body. */
export interface TokenResponseBody {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/**
 * What every shard RPC returns. Client-caused failures come back as data (class instances do not cross the
 * RPC boundary); `purge` lists hashes of access tokens the call revoked, for the caller to drop from the
 * gateway's validation cache before it answers.
 */
export type ShardResult<T> =
  | { ok: true; value: T; purge: string[] }
  | { ok: false; error: OAuthErrorData; purge: string[] };

export interface IssueRequest {
  route: TokenRoute;
  credentials: ClientCredentials;
  grantType: string;
  scope: string | null;
  /** Canonical user the token is for, already authenticated by the grant; null for an application token. */
  user: string | null;
  withRefresh: boolean;
  /** Accept a client that presents only its client_id (public clients of grants that allow it). */
  allowPublic?: boolean;
}

export interface PasswordRequest {
  route: TokenRoute;
  credentials: ClientCredentials;
  username: string;
  password: string;
  scope: string | null;
}

export interface RefreshRequest {
  route: TokenRoute;
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

/** What the gateway needs to know about an access token; cached in KV under the token's hash. */
export interface AccessTokenFacts {
  consumerKey: string;
  applicationId: string;
  applicationName: string;
  keyType: KeyType;
  /** End user for user tokens; the application owner for application tokens. */
  user: string;
  isApplicationToken: boolean;
  scope: string;
  issuedAt: number;
  /** Epoch ms, or null when the token never expires. */
  expiresAt: number | null;
  allowedDomains: string[];
}
