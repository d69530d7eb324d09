import type { OAuthFailure } from "../../core/oauth-failure";
import { narrowScope } from "../../core/scope";
import { sealWith, unsealWith } from "../../crypto/secrets";
import {
  expiresIn,
  type MintingContext,
  mintPair,
  SEAL_SUCCESSOR,
  spentPurgeAfter,
  userCredential,
} from "./minting";
import { accepted, refused, type ShardResult, type TokenResponseBody } from "./protocol";

interface SealedSuccessor {
  access_token: string;
  refresh_token: string;
}

type Decision =
  | { kind: "rotated"; purge: string[] }
  | { kind: "replay"; sealed: string; accessHash: string; refreshHash: string }
  | { kind: "refused"; failure: OAuthFailure; purge: string[] };

const invalidGrant = (description: string): OAuthFailure => ({ error: "invalid_grant", description });

/**
 * Spends a refresh token and mints its successor pair (RFC 6749 §6, RFC 9700 §4.14.2).
 *
 * Everything that awaits (hashing, minting, sealing) happens before the decision; the decision and its writes
 * are one synchronous transaction, so two rotations of one token are strictly ordered while the object stays
 * free to serve other families in between. The loser of a race (or a retry) within REFRESH_TOKEN_REUSE_GRACE
 * gets the winner's pair back, decrypted with the key only the spent token yields; after the window, a spent
 * token revokes its whole family.
 */
export async function rotateRefreshToken(
  context: MintingContext,
  presented: { token: string; hash: string },
  request: { scope: string | null; issuer: string },
  now: number,
): Promise<ShardResult<TokenResponseBody>> {
  const { config, record, tokens } = context;
  const hash = presented.hash;
  const current = tokens.find(hash);
  if (!current || current.kind !== "refresh") return refused(invalidGrant("the refresh token is not valid"));
  const scope = narrowScope(request.scope, current.granted_scope, record.keyType);
  // A family carries the epoch its grant was checked at (src/durable/user-epoch.ts); null: from before epochs.
  const userEpoch = current.user === null ? null : (current.user_epoch ?? 0);
  const credential = await context.users.prepare(userCredential(current.user, userEpoch));

  const next = await mintPair(
    context,
    {
      grantType: current.grant_type,
      user: current.user,
      scope,
      grantedScope: current.granted_scope,
      withRefresh: true,
      family: current.family,
      publicClient: current.public_client === 1,
      issuer: request.issuer,
      userEpoch,
    },
    now,
  );
  const [accessRow, refreshRow] = next.rows;
  if (!accessRow || !refreshRow || next.refresh === null) throw new Error("a rotation mints a pair");
  const successor: SealedSuccessor = { access_token: next.access, refresh_token: next.refresh };
  const sealed =
    config.refreshTokenReuseGrace > 0
      ? await sealWith(presented.token, SEAL_SUCCESSOR, JSON.stringify(successor))
      : null;

  const decision = context.transaction((): Decision => {
    const row = tokens.find(hash);
    if (!row || row.state === "revoked")
      return { kind: "refused", failure: invalidGrant("the refresh token has been revoked"), purge: [] };
    if (row.expires_at !== null && row.expires_at <= now) {
      return { kind: "refused", failure: invalidGrant("the refresh token has expired"), purge: [] };
    }
    if (row.state === "spent") {
      const graceEnds = (row.spent_at ?? 0) + config.refreshTokenReuseGrace * 1000;
      const heir = row.successor_hash ? tokens.find(row.successor_hash) : null;
      if (now <= graceEnds && row.successor_sealed && heir?.state === "active" && heir.sibling_hash) {
        return {
          kind: "replay",
          sealed: row.successor_sealed,
          accessHash: heir.sibling_hash,
          refreshHash: heir.hash,
        };
      }
      // RFC 9700 §4.14.2: a spent refresh token came back: two parties hold it, so the whole grant dies.
      const purge = tokens.revoke("family", row.family, now);
      return {
        kind: "refused",
        failure: invalidGrant("the refresh token was already used; its grant is revoked"),
        purge,
      };
    }
    context.users.admit(credential);
    const purge = row.sibling_hash ? tokens.removeAccess(row.sibling_hash) : [];
    tokens.markSpent(hash, now, refreshRow.hash, sealed, spentPurgeAfter(row, now));
    tokens.insert(accessRow);
    tokens.insert(refreshRow);
    tokens.trimSpent(row.family);
    return { kind: "rotated", purge };
  });

  if (decision.kind === "refused") return refused(decision.failure, decision.purge);
  if (decision.kind === "rotated") return accepted(next.body, decision.purge);
  return replay(context, presented.token, decision, now);
}

async function replay(
  context: MintingContext,
  presented: string,
  decision: Extract<Decision, { kind: "replay" }>,
  now: number,
): Promise<ShardResult<TokenResponseBody>> {
  const plaintext = await unsealWith(presented, SEAL_SUCCESSOR, decision.sealed);
  const access = context.tokens.find(decision.accessHash);
  if (!plaintext || !access || access.state !== "active")
    return refused(invalidGrant("the refresh token was already used"));
  const successor = JSON.parse(plaintext) as SealedSuccessor;
  return accepted({
    access_token: successor.access_token,
    token_type: "Bearer",
    expires_in: expiresIn(context.config, access.expires_at, now),
    scope: access.scope,
    refresh_token: successor.refresh_token,
  });
}
