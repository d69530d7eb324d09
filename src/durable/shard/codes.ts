import type { ClientRecord } from "../../core/client-record";
import type { Config } from "../../core/config";
import { mintToken, type TokenRoute } from "../../core/token-format";
import { base64url, utf8 } from "../../crypto/encoding";
import { hashSecret, randomSecret, timingSafeEqual } from "../../crypto/secrets";
import { invalidClient, OAuthError } from "../../errors/oauth-error";
import type { JwtSigner } from "../signing/signer";
import { expiryOf, mintPair, PUBLIC_CLIENT_GRANT } from "./minting";
import type { CodeIssueRequest, CodeRedeemRequest, TokenResponseBody } from "./protocol";
import { SPENT_RETENTION_MS, type TokenRow, type TokenTable } from "./schema";

/**
 * Authorization codes (RFC 6749 §4.1.2, §4.1.3; PKCE per RFC 7636). A code is a row of kind `code` in the
 * shard of the user it was issued for, looked up by the SHA-256 of its value like every token. What the code
 * is bound to (redirect URI, PKCE challenge) sits in the row's `extra` column. The code and the tokens
 * issued with it share one family, so a second use of the code revokes them all with one statement.
 */
export const AUTHORIZATION_CODE_GRANT = "authorization_code";

interface CodeBinding {
  redirectUri: string;
  redirectUriSent: boolean;
  /** base64url(SHA-256(code_verifier)), RFC 7636 §4.2; null when the request used no PKCE. */
  codeChallenge: string | null;
}

export interface CodeContext {
  config: Config;
  record: ClientRecord;
  route: TokenRoute;
  tokens: TokenTable;
  signer: JwtSigner;
  /** Runs `fn` as one synchronous SQLite transaction: nothing else runs on the object meanwhile. */
  transaction<T>(fn: () => T): T;
}

export interface IssuedCode {
  code: string;
  /** When the row may be deleted: its expiry (null for a code that never expires). */
  purgeAfter: number | null;
}

export interface RedeemOutcome {
  body: TokenResponseBody | null;
  error: OAuthError | null;
  /** Access-token hashes this call revoked (a reused code revokes what it had issued). */
  purge: string[];
  purgeAfter: number | null;
}

const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);

/** RFC 7636 §4.1: code_verifier = 43*128unreserved. */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 7636 §4.2 S256: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))). */
export async function s256Challenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(verifier))));
}

/** Mints a single-use code valid for AUTHORIZATION_CODE_VALIDITY, bound to its redirect URI and challenge. */
export async function issueCode(
  context: CodeContext,
  request: CodeIssueRequest,
  now: number,
): Promise<IssuedCode> {
  const code = mintToken(context.route);
  const expiresAt = expiryOf(now, context.config.authorizationCodeValidity);
  const binding: CodeBinding = {
    redirectUri: request.redirectUri,
    redirectUriSent: request.redirectUriSent,
    codeChallenge: request.codeChallenge,
  };
  const row: TokenRow = {
    hash: await hashSecret(code),
    kind: "code",
    state: "active",
    family: randomSecret(16),
    grant_type: AUTHORIZATION_CODE_GRANT,
    user: request.user,
    scope: request.scope,
    granted_scope: request.scope,
    key_type: context.record.keyType,
    issued_at: now,
    expires_at: expiresAt,
    sibling_hash: null,
    sibling_sealed: null,
    spent_at: null,
    successor_hash: null,
    successor_sealed: null,
    revoked_at: null,
    purge_after: expiresAt,
    extra: JSON.stringify(binding),
  };
  context.transaction(() => context.tokens.insert(row));
  return { code, purgeAfter: expiresAt };
}

/**
 * Checks what the token request presents against what the code is bound to. The client itself has already
 * been authenticated (or identified by client_id alone) by the shard.
 */
async function checkBinding(binding: CodeBinding, request: CodeRedeemRequest): Promise<OAuthError | null> {
  // RFC 6749 §4.1.3: redirect_uri is REQUIRED if it was in the authorization request, and must be identical.
  if (binding.redirectUriSent && request.redirectUri === null) {
    return new OAuthError(
      "invalid_request",
      "missing parameter redirect_uri: the authorization request included one (RFC 6749 §4.1.3)",
    );
  }
  if (request.redirectUri !== null && request.redirectUri !== binding.redirectUri) {
    return invalidGrant("redirect_uri does not match the one of the authorization request");
  }
  if (binding.codeChallenge === null) {
    // RFC 9700 §2.1.1: a code_verifier for a code issued without a challenge is a PKCE downgrade attempt.
    if (request.codeVerifier !== null) {
      return invalidGrant("code_verifier was sent, but the authorization request had no code_challenge");
    }
    // Without a secret, only PKCE ties the code to the party that asked for it (RFC 7636 §1, RFC 9700 §2.1.1).
    if (request.credentials.clientSecret === null) {
      return invalidClient(
        "client authentication failed: a client without a secret must use PKCE (code_challenge with S256)",
      );
    }
    return null;
  }
  // RFC 7636 §4.6: recompute the challenge from the verifier and compare.
  if (request.codeVerifier === null) {
    return invalidGrant("missing code_verifier: the authorization request used PKCE (RFC 7636 §4.5)");
  }
  const computed = await s256Challenge(request.codeVerifier);
  if (!timingSafeEqual(computed, binding.codeChallenge)) {
    return invalidGrant("code_verifier does not match the code_challenge (RFC 7636 §4.6)");
  }
  return null;
}

/** How long a spent code is remembered, so a second use can still find and revoke its tokens. */
function spentCodeRetention(rows: TokenRow[], now: number): number {
  let until = now;
  for (const row of rows) {
    if (row.expires_at === null) return now + SPENT_RETENTION_MS;
    until = Math.max(until, row.expires_at);
  }
  return Math.min(until, now + SPENT_RETENTION_MS);
}

/**
 * Exchanges a code for a user access token and refresh token (RFC 6749 §4.1.3, §4.1.4).
 *
 * A code works once. A failed check (redirect URI, PKCE) does not spend it. A code presented after it was
 * used revokes every token issued with it (RFC 6749 §4.1.2, §10.5), including when two requests race: the
 * decision and its writes are one synchronous transaction, so exactly one wins and the other revokes.
 */
export async function redeemCode(
  context: CodeContext,
  request: CodeRedeemRequest,
  now: number,
): Promise<RedeemOutcome> {
  const { tokens } = context;
  const hash = await hashSecret(request.code);
  const code = tokens.find(hash);
  if (!code || code.kind !== "code") return refused(invalidGrant("the authorization code is not valid"));
  if (code.state !== "active") return context.transaction(() => revokeReused(tokens, hash, now));
  if (code.expires_at !== null && code.expires_at <= now) {
    return refused(invalidGrant("the authorization code has expired"));
  }
  const binding = JSON.parse(code.extra ?? "null") as CodeBinding | null;
  if (!binding) return refused(invalidGrant("the authorization code is not valid"));
  const mismatch = await checkBinding(binding, request);
  if (mismatch) return refused(mismatch);

  const pair = await mintPair(
    context.config,
    context.record,
    context.route,
    {
      grantType: AUTHORIZATION_CODE_GRANT,
      user: code.user,
      scope: code.scope,
      grantedScope: code.granted_scope,
      withRefresh: true,
      family: code.family,
      extra: request.credentials.clientSecret === null ? PUBLIC_CLIENT_GRANT : null,
      jwt: { issuer: request.issuer, signer: context.signer },
    },
    now,
  );
  const keepSpentUntil = spentCodeRetention(pair.rows, now);

  return context.transaction((): RedeemOutcome => {
    const row = tokens.find(hash);
    if (!row || row.state !== "active") return revokeReused(tokens, hash, now);
    if (row.expires_at !== null && row.expires_at <= now) {
      return refused(invalidGrant("the authorization code has expired"));
    }
    const refreshHash = pair.rows.find((minted) => minted.kind === "refresh")?.hash ?? "";
    tokens.markSpent(hash, now, refreshHash, null, keepSpentUntil);
    for (const minted of pair.rows) tokens.insert(minted);
    return { body: pair.body, error: null, purge: [], purgeAfter: pair.rows[0]?.purge_after ?? null };
  });
}

/** RFC 6749 §4.1.2: a code used twice revokes all tokens previously issued based on it. Runs in a transaction. */
function revokeReused(tokens: TokenTable, hash: string, now: number): RedeemOutcome {
  const row = tokens.find(hash);
  if (!row) return refused(invalidGrant("the authorization code is not valid"));
  // A used code has spent_at set, also after its reuse revoked it; one never used was revoked with its key.
  const wasRevoked = row.state === "revoked" && row.spent_at === null;
  const purge = tokens.revoke("family", row.family, now);
  const error = invalidGrant(
    wasRevoked
      ? "the authorization code has been revoked"
      : "the authorization code was already used; the tokens issued with it are revoked",
  );
  return { ...refused(error), purge };
}

function refused(error: OAuthError): RedeemOutcome {
  return { body: null, error, purge: [], purgeAfter: null };
}
