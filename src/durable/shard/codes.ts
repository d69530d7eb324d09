import type { OAuthFailure } from "../../core/oauth-failure";
import { mintToken } from "../../core/token-format";
import { base64url, utf8 } from "../../crypto/encoding";
import { hashSecret, randomSecret, timingSafeEqual } from "../../crypto/secrets";
import {
  expiryOf,
  hashConsentForm,
  type MintingContext,
  mintPair,
  spendConsentForm,
  userCredential,
} from "./minting";
import {
  accepted,
  type CodeIssueRequest,
  type CodeRedeemRequest,
  refused,
  type ShardResult,
  type TokenResponseBody,
} from "./protocol";
import { SPENT_RETENTION_MS, type TokenRow, type TokenTable } from "./schema";

/**
 * Authorization codes (RFC 6749 §4.1.2, §4.1.3; PKCE per RFC 7636). A code is a row of kind `code` in the
 * shard of the user it was issued for, looked up by the SHA-256 of its value like every token. What the code
 * is bound to (redirect URI, PKCE challenge) sits in the row's `code_binding` column. The code and the tokens
 * issued with it share one family, so a second use of the code revokes them all with one statement.
 */
export const AUTHORIZATION_CODE_GRANT = "authorization_code";

interface CodeBinding {
  redirectUri: string;
  redirectUriSent: boolean;
  /** base64url(SHA-256(code_verifier)), RFC 7636 §4.2; null when the request used no PKCE. */
  codeChallenge: string | null;
}

export interface IssuedCode {
  code: string;
  /** When the row may be deleted: its expiry (null for a code that never expires). */
  purgeAfter: number | null;
}

/** A redeemed code's tokens, and when the rows written may be purged (for the shard's clean-up alarm). */
export interface Redeemed {
  body: TokenResponseBody;
  purgeAfter: number | null;
}

const invalidGrant = (description: string): OAuthFailure => ({ error: "invalid_grant", description });

/** RFC 7636 §4.1: code_verifier = 43*128unreserved. */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 7636 §4.2 S256: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))). */
export async function s256Challenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(verifier))));
}

/** Mints a single-use code valid for AUTHORIZATION_CODE_VALIDITY, bound to its redirect URI and challenge. */
export async function issueCode(
  context: MintingContext,
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
    code_binding: JSON.stringify(binding),
    public_client: 0,
    user_epoch: request.userEpoch,
  };
  const form = await hashConsentForm(request.consentForm);
  const credential = await context.users.prepare(userCredential(request.user, request.userEpoch));
  context.transaction(() => {
    context.users.admit(credential);
    spendConsentForm(context.forms, form);
    context.tokens.insert(row);
  });
  return { code, purgeAfter: expiresAt };
}

/**
 * Checks what the token request presents against what the code is bound to. The client itself has already
 * been authenticated (or identified by client_id alone) by the shard.
 */
async function checkBinding(binding: CodeBinding, request: CodeRedeemRequest): Promise<OAuthFailure | null> {
  // RFC 6749 §4.1.3: redirect_uri is REQUIRED if it was in the authorization request, and must be identical.
  if (binding.redirectUriSent && request.redirectUri === null) {
    return {
      error: "invalid_request",
      description: "missing parameter redirect_uri: the authorization request included one (RFC 6749 §4.1.3)",
    };
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
      return {
        error: "invalid_client",
        description:
          "client authentication failed: a client without a secret must use PKCE (code_challenge with S256)",
      };
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
  context: MintingContext,
  request: CodeRedeemRequest,
  now: number,
): Promise<ShardResult<Redeemed>> {
  const { tokens } = context;
  const hash = await hashSecret(request.code);
  const code = tokens.find(hash);
  if (!code || code.kind !== "code") return refused(invalidGrant("the authorization code is not valid"));
  if (code.state !== "active") return context.transaction(() => revokeReused(tokens, hash, now));
  if (code.expires_at !== null && code.expires_at <= now) {
    return refused(invalidGrant("the authorization code has expired"));
  }
  const binding = JSON.parse(code.code_binding ?? "null") as CodeBinding | null;
  if (!binding) return refused(invalidGrant("the authorization code is not valid"));
  const mismatch = await checkBinding(binding, request);
  if (mismatch) return refused(mismatch);

  const credential = await context.users.prepare(userCredential(code.user, code.user_epoch ?? 0));
  const pair = await mintPair(
    context,
    {
      grantType: AUTHORIZATION_CODE_GRANT,
      userEpoch: code.user_epoch ?? 0,
      user: code.user,
      scope: code.scope,
      grantedScope: code.granted_scope,
      withRefresh: true,
      family: code.family,
      publicClient: request.credentials.clientSecret === null,
      issuer: request.issuer,
    },
    now,
  );
  const keepSpentUntil = spentCodeRetention(pair.rows, now);

  return context.transaction((): ShardResult<Redeemed> => {
    const row = tokens.find(hash);
    if (!row || row.state !== "active") return revokeReused(tokens, hash, now);
    if (row.expires_at !== null && row.expires_at <= now) {
      return refused(invalidGrant("the authorization code has expired"));
    }
    context.users.admit(credential);
    const refreshHash = pair.rows.find((minted) => minted.kind === "refresh")?.hash ?? "";
    tokens.markSpent(hash, now, refreshHash, null, keepSpentUntil);
    for (const minted of pair.rows) tokens.insert(minted);
    return accepted({ body: pair.body, purgeAfter: pair.rows[0]?.purge_after ?? null });
  });
}

/** RFC 6749 §4.1.2: a code used twice revokes all tokens previously issued based on it. Runs in a transaction. */
function revokeReused(tokens: TokenTable, hash: string, now: number): ShardResult<never> {
  const row = tokens.find(hash);
  if (!row) return refused(invalidGrant("the authorization code is not valid"));
  // A used code has spent_at set, also after its reuse revoked it; one never used was revoked with its key.
  const wasRevoked = row.state === "revoked" && row.spent_at === null;
  const purge = tokens.revoke("family", row.family, now);
  const failure = invalidGrant(
    wasRevoked
      ? "the authorization code has been revoked"
      : "the authorization code was already used; the tokens issued with it are revoked",
  );
  return refused(failure, purge);
}
