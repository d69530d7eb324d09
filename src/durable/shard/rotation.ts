import type { ClientRecord } from "../../core/client-record";
import type { Config } from "../../core/config";
import { narrowScope } from "../../core/scope";
import type { TokenRoute } from "../../core/token-format";
import { sealWith, unsealWith } from "../../crypto/secrets";
import { OAuthError } from "../../errors/oauth-error";
import type { JwtIssuance } from "./access-tokens";
import { expiresIn, mintPair, SEAL_SUCCESSOR, spentPurgeAfter } from "./minting";
import type { TokenResponseBody } from "./protocol";
import type { TokenTable } from "./schema";

export interface RotationContext {
  config: Config;
  record: ClientRecord;
  route: TokenRoute;
  tokens: TokenTable;
  jwt: JwtIssuance;
  /** Runs `fn` as one synchronous SQLite transaction: nothing else runs on the object meanwhile. */
  transaction<T>(fn: () => T): T;
}

export interface RotationOutcome {
  body: TokenResponseBody | null;
  error: OAuthError | null;
  purge: string[];
}

interface SealedSuccessor {
  access_token: string;
  refresh_token: string;
}

type Decision =
  | { kind: "rotated"; purge: string[] }
  | { kind: "replay"; sealed: string; accessHash: string; refreshHash: string }
  | { kind: "refused"; error: OAuthError; purge: string[] };

const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);

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
  context: RotationContext,
  presented: { token: string; hash: string },
  requestedScope: string | null,
  now: number,
): Promise<RotationOutcome> {
  const { config, record, route, tokens } = context;
  const hash = presented.hash;
  const current = tokens.find(hash);
  if (!current || current.kind !== "refresh") return refused(invalidGrant("the refresh token is not valid"));
  const scope = narrowScope(requestedScope, current.granted_scope, record.keyType);

  const next = await mintPair(
    config,
    record,
    route,
    {
      grantType: current.grant_type,
      user: current.user,
      scope,
      grantedScope: current.granted_scope,
      withRefresh: true,
      family: current.family,
      extra: current.extra,
      jwt: context.jwt,
    },
    now,
  );
  const successor: SealedSuccessor = { access_token: next.access, refresh_token: next.refresh as string };
  const sealed =
    config.refreshTokenReuseGrace > 0
      ? await sealWith(presented.token, SEAL_SUCCESSOR, JSON.stringify(successor))
      : null;
  const [accessRow, refreshRow] = next.rows as [(typeof next.rows)[0], (typeof next.rows)[0]];

  const decision = context.transaction((): Decision => {
    const row = tokens.find(hash);
    if (!row || row.state === "revoked")
      return { kind: "refused", error: invalidGrant("the refresh token has been revoked"), purge: [] };
    if (row.expires_at !== null && row.expires_at <= now) {
      return { kind: "refused", error: invalidGrant("the refresh token has expired"), purge: [] };
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
        error: invalidGrant("the refresh token was already used; its grant is revoked"),
        purge,
      };
    }
    const purge = row.sibling_hash ? tokens.removeAccess(row.sibling_hash) : [];
    tokens.markSpent(hash, now, refreshRow.hash, sealed, spentPurgeAfter(row, now));
    tokens.insert(accessRow);
    tokens.insert(refreshRow);
    tokens.trimSpent(row.family);
    return { kind: "rotated", purge };
  });

  if (decision.kind === "refused") return { body: null, error: decision.error, purge: decision.purge };
  if (decision.kind === "rotated") {
    return { body: next.body, error: null, purge: decision.purge };
  }
  return replay(context, presented.token, decision, now);
}

async function replay(
  context: RotationContext,
  presented: string,
  decision: Extract<Decision, { kind: "replay" }>,
  now: number,
): Promise<RotationOutcome> {
  const plaintext = await unsealWith(presented, SEAL_SUCCESSOR, decision.sealed);
  const access = context.tokens.find(decision.accessHash);
  if (!plaintext || !access || access.state !== "active")
    return refused(invalidGrant("the refresh token was already used"));
  const successor = JSON.parse(plaintext) as SealedSuccessor;
  return {
    body: {
      access_token: successor.access_token,
      token_type: "Bearer",
      expires_in: expiresIn(context.config, access.expires_at, now),
      scope: access.scope,
      refresh_token: successor.refresh_token,
    },
    error: null,
    purge: [],
  };
}

function refused(error: OAuthError): RotationOutcome {
  return { body: null, error, purge: [] };
}
