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
import { type PresentedRefresh, SPENT_PER_FAMILY } from "./schema";

interface SealedSuccessor {
  access_token: string;
  refresh_token: string;
}

type Decision =
  | { kind: "rotated"; body: TokenResponseBody; purge: string[] }
  | { kind: "replay"; sealed: string; accessHash: string; refreshHash: string }
  | { kind: "refused"; failure: OAuthFailure; purge: string[] };

const invalidGrant = (description: string): OAuthFailure => ({ error: "invalid_grant", description });

/**
 * Spends a refresh token and mints its successor pair (RFC 6749 §6, RFC 9700 §4.14.2).
 *
 * `presented.row` is the shard's read of the token before any await (the pre-check). A live token's pair is
 * minted and sealed first (everything that awaits); then one synchronous transaction spends the token and reads
 * it in the same statement (`spendRefresh`: UPDATE … RETURNING, only while it is active and unexpired), retires
 * what it supersedes and writes the pair. Two rotations of one token are so strictly ordered while the object
 * stays free to serve other families in between. A token that could not be spent (the loser of a race, a retry,
 * a revoked or expired one) is decided by {@link decideUsed}: within REFRESH_TOKEN_REUSE_GRACE the winner's pair
 * comes back, decrypted with the key only the spent token yields; after the window, a spent token revokes its
 * whole family. A token the pre-check already saw spent mints nothing.
 */
export async function rotateRefreshToken(
  context: MintingContext,
  presented: { token: string; hash: string; row: PresentedRefresh | null },
  request: { scope: string | null; issuer: string },
  now: number,
): Promise<ShardResult<TokenResponseBody>> {
  const current = presented.row;
  if (!current || current.kind !== "refresh") return refused(invalidGrant("the refresh token is not valid"));
  // RFC 6749 §6: the scope asked may narrow the grant's, never widen it (a retry is held to that too).
  const scope = narrowScope(request.scope, current.granted_scope, context.record.keyType);
  const decision =
    current.state === "spent"
      ? context.transaction(() => decideUsed(context, presented.hash, now))
      : await rotate(context, presented, current, { scope, issuer: request.issuer }, now);
  if (decision.kind === "refused") return refused(decision.failure, decision.purge);
  if (decision.kind === "rotated") return accepted(decision.body, decision.purge);
  return replay(context, presented.token, decision, now);
}

/** Mints the successor pair of `current`, then spends the token and writes the pair in one transaction. */
async function rotate(
  context: MintingContext,
  presented: { token: string; hash: string },
  current: PresentedRefresh,
  request: { scope: string; issuer: string },
  now: number,
): Promise<Decision> {
  const { config, tokens } = context;
  // A family carries the epoch its grant was checked at (src/durable/user-epoch.ts); null: from before epochs.
  const userEpoch = current.user === null ? null : (current.user_epoch ?? 0);
  const credential = await context.users.prepare(userCredential(current.user, userEpoch));

  const next = await mintPair(
    context,
    {
      grantType: current.grant_type,
      user: current.user,
      scope: request.scope,
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

  return context.transaction((): Decision => {
    const spent = tokens.spendRefresh(
      presented.hash,
      now,
      refreshRow.hash,
      sealed,
      spentPurgeAfter(current, now),
    );
    if (!spent) return decideUsed(context, presented.hash, now);
    // Refuses (and so rolls the spend back) a credential older than the user's newest epoch on this shard.
    context.users.admit(credential);
    const purge = tokens.supersede(spent.sibling_hash, spent.family, SPENT_PER_FAMILY);
    tokens.insert(accessRow, refreshRow);
    return { kind: "rotated", body: next.body, purge };
  });
}

/**
 * Inside a transaction: a presented refresh token that could not be spent. Revoked, expired or gone: refused.
 * Spent: within the grace window, and while its successor is live, the successor pair is replayed; otherwise
 * two parties hold the token, and its family is revoked.
 */
function decideUsed(context: MintingContext, hash: string, now: number): Decision {
  const { config, tokens } = context;
  const row = tokens.find(hash);
  if (!row || row.state === "revoked")
    return { kind: "refused", failure: invalidGrant("the refresh token has been revoked"), purge: [] };
  if (row.expires_at !== null && row.expires_at <= now) {
    return { kind: "refused", failure: invalidGrant("the refresh token has expired"), purge: [] };
  }
  if (row.state !== "spent") throw new Error("a live refresh token reached the decision for used ones");
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
