import type { OAuthFailure } from "../../core/oauth-failure";
import { narrowScope } from "../../core/scope";
import { mintToken } from "../../core/token-format";
import { sealWith, unsealWith } from "../../crypto/secrets";
import { mintsOpaqueAccessTokens, newAccessToken } from "./access-tokens";
import {
  accessTokenValidity,
  expiresIn,
  expiryOf,
  type MintingContext,
  pairRows,
  SEAL_SUCCESSOR,
  type SealedPair,
  sealPair,
  userCredential,
} from "./minting";
import { accepted, refused, type ShardResult, type TokenResponseBody } from "./protocol";
import type { PresentedRefresh, SpentRefresh } from "./schema";
import type { PreparedCredential } from "./user-epochs";

interface SealedSuccessor {
  access_token: string;
  refresh_token: string;
}

type Decision =
  | { kind: "rotated"; body: TokenResponseBody; purge: string[] }
  | { kind: "replay"; sealed: string; accessHash: string; refreshHash: string }
  | { kind: "refused"; failure: OAuthFailure; purge: string[] };

interface RotationRequest {
  /** The scope asked for (RFC 6749 §6), or null for the grant's. */
  scope: string | null;
  issuer: string;
}

/**
 * A refresh token as presented: its value, its SHA-256, and the shard's read of its row when one was needed
 * before authenticating the client (a public client's grant; `undefined`: not read yet).
 */
interface PresentedToken {
  token: string;
  hash: string;
  row?: PresentedRefresh | null;
}

const invalidGrant = (description: string): OAuthFailure => ({ error: "invalid_grant", description });

/** Thrown inside the rotation transaction (rolling it back) when the shard must ask the user store first. */
class UnknownUserEpoch extends Error {}

/**
 * Spends a refresh token and mints its successor pair (RFC 6749 §6, RFC 9700 §4.14.2).
 *
 * The successor is minted and sealed first (everything that awaits); then one synchronous transaction spends
 * the presented token and reads it in the same statement (`spendRefresh`: UPDATE … RETURNING, only while it is
 * an active, unexpired refresh token), checks the scope and the user's credential epoch, retires what it
 * supersedes and writes the pair. Two rotations of one token are so strictly ordered while the object stays
 * free to serve other families in between.
 *
 * An opaque access token is random, so its pair is minted without reading the presented row first: the spend
 * is the only read. A JWT access token carries the grant's user and scope, so its row is read first (as it is
 * for a public client, whose authentication depends on it). A token that could not be spent (the loser of a
 * race, a retry, a revoked or expired one) is decided by {@link decideUsed}: within REFRESH_TOKEN_REUSE_GRACE
 * the winner's pair comes back, decrypted with the key only the spent token yields; after the window, a spent
 * token revokes its whole family. A token read first and found no longer active mints nothing.
 */
export async function rotateRefreshToken(
  context: MintingContext,
  presented: PresentedToken,
  request: RotationRequest,
  now: number,
): Promise<ShardResult<TokenResponseBody>> {
  let decision =
    presented.row === undefined && mintsOpaqueAccessTokens(context.record)
      ? await rotateUnread(context, presented, request, now)
      : null;
  if (decision === null) {
    const row = presented.row === undefined ? context.tokens.findPresented(presented.hash) : presented.row;
    decision =
      row?.kind === "refresh" && row.state === "active"
        ? await rotateRead(context, presented, row, request, now)
        : context.transaction(() => decideUsed(context, presented.hash, request.scope, now));
  }
  if (decision.kind === "refused") return refused(decision.failure, decision.purge);
  if (decision.kind === "rotated") return accepted(decision.body, decision.purge);
  return replay(context, presented.token, decision, now);
}

/**
 * Rotation of an opaque-token grant without a read before the transaction. Null (and nothing changed) when the
 * shard does not know the user's credential epoch yet: the caller then rotates the read way, which asks the
 * user store first.
 */
async function rotateUnread(
  context: MintingContext,
  presented: PresentedToken,
  request: RotationRequest,
  now: number,
): Promise<Decision | null> {
  const pair = await sealPair(mintToken(context.route), mintToken(context.route));
  const sealed = await sealSuccessor(context, presented.token, pair);
  try {
    return context.transaction(() =>
      spendAndWrite(context, presented.hash, pair, sealed, request, now, (spent) => {
        const credential = userCredential(spent.user, spent.user === null ? null : (spent.user_epoch ?? 0));
        if (credential && context.users.known(credential.user) === null) throw new UnknownUserEpoch();
        return credential && { ...credential, fetched: null };
      }),
    );
  } catch (error) {
    if (error instanceof UnknownUserEpoch) return null;
    throw error;
  }
}

/** Rotation of an active refresh token whose row was read first (a JWT access token needs its claims). */
async function rotateRead(
  context: MintingContext,
  presented: PresentedToken,
  current: PresentedRefresh,
  request: RotationRequest,
  now: number,
): Promise<Decision> {
  const { config, record, route } = context;
  // RFC 6749 §6: the scope asked may narrow the grant's, never widen it.
  const scope = narrowScope(request.scope, current.granted_scope, record.keyType);
  // A family carries the epoch its grant was checked at (src/durable/user-epoch.ts); null: from before epochs.
  const userEpoch = current.user === null ? null : (current.user_epoch ?? 0);
  const credential = await context.users.prepare(userCredential(current.user, userEpoch));
  const access = await newAccessToken({ issuer: request.issuer, signer: context.signer }, record, route, {
    user: current.user,
    scope,
    issuedAt: now,
    expiresAt: expiryOf(now, accessTokenValidity(config, record, current.user !== null)),
  });
  const pair = await sealPair(access, mintToken(route));
  const sealed = await sealSuccessor(context, presented.token, pair);
  return context.transaction(() =>
    spendAndWrite(context, presented.hash, pair, sealed, request, now, () => credential),
  );
}

/** The successor pair sealed under the presented token, for a retry within REFRESH_TOKEN_REUSE_GRACE. */
async function sealSuccessor(
  context: MintingContext,
  presented: string,
  pair: SealedPair,
): Promise<string | null> {
  if (context.config.refreshTokenReuseGrace <= 0 || pair.refresh === null) return null;
  const successor: SealedSuccessor = { access_token: pair.access, refresh_token: pair.refresh };
  return sealWith(presented, SEAL_SUCCESSOR, JSON.stringify(successor));
}

/**
 * Inside the rotation transaction: spends the presented token, then (for a token that was spendable) checks
 * the scope asked and the user's credential, retires what the spent token supersedes and writes the pair. A
 * refusal thrown here rolls the spend back.
 */
function spendAndWrite(
  context: MintingContext,
  hash: string,
  pair: SealedPair,
  sealed: string | null,
  request: RotationRequest,
  now: number,
  credentialOf: (spent: SpentRefresh) => PreparedCredential | null,
): Decision {
  const { tokens, record } = context;
  if (pair.refreshHash === null) throw new Error("a rotation mints a pair");
  const spent = tokens.spendRefresh(hash, now, pair.refreshHash, sealed);
  if (!spent) return decideUsed(context, hash, request.scope, now);
  // RFC 6749 §6: the scope asked may narrow the grant's, never widen it.
  const scope = narrowScope(request.scope, spent.granted_scope, record.keyType);
  const credential = credentialOf(spent);
  // Refuses a credential older than the user's newest epoch on this shard.
  context.users.admit(credential);
  const purge = tokens.deleteSuperseded(spent.sibling_hash);
  const next = pairRows(
    context,
    pair,
    {
      grantType: spent.grant_type,
      user: spent.user,
      scope,
      grantedScope: spent.granted_scope,
      withRefresh: true,
      family: spent.family,
      publicClient: spent.public_client === 1,
      issuer: request.issuer,
      userEpoch: credential?.epoch ?? null,
    },
    now,
  );
  tokens.insert(...next.rows);
  return { kind: "rotated", body: next.body, purge };
}

/**
 * Inside a transaction: a presented refresh token that could not be spent. Not a refresh token, revoked,
 * expired or gone: refused. Spent: within the grace window, and while its successor is live, the successor
 * pair is replayed; otherwise two parties hold the token, and its family is revoked. The scope asked is held
 * to the grant's here too (RFC 6749 §6), so a retry cannot widen it either.
 */
function decideUsed(context: MintingContext, hash: string, scope: string | null, now: number): Decision {
  const { config, tokens } = context;
  const row = tokens.find(hash);
  if (!row || row.kind !== "refresh")
    return { kind: "refused", failure: invalidGrant("the refresh token is not valid"), purge: [] };
  narrowScope(scope, row.granted_scope, context.record.keyType);
  if (row.state === "revoked")
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
