import type { ClientRecord } from "../../core/client-record";
import { unsealWith } from "../../crypto/secrets";
import { isLive } from "./introspection";
import { SEAL_SIBLING, type ShardStore } from "./minting";
import type { RevocationOutcome } from "./protocol";
import type { TokenRow } from "./schema";

/**
 * RFC 7009 revocation of a token of this shard, with WSO2's answer: the values of the tokens revoked and the
 * user they were issued to. Revoking either token of a pair revokes the whole grant (its family); the
 * sibling's value is recovered from its sealed copy with the presented token. An unknown or already revoked
 * token changes nothing (RFC 7009 §2.2); an expired one ends its grant but names nothing. The client has been
 * authenticated already.
 */
export async function revokeToken(
  context: ShardStore,
  record: ClientRecord,
  presented: { token: string; hash: string; row: TokenRow | null },
  now: number,
): Promise<{ outcome: RevocationOutcome; purge: string[] }> {
  const { token, hash, row: found } = presented;
  if (found && found.state === "revoked" && found.kind !== "code") {
    // Already revoked: nothing to say (RFC 7009 §2.2), but the purge is published again, in case the first
    // revocation's did not reach KV (README "Revoke API").
    const purge = context.transaction(() => context.tokens.republishFamily(found.family));
    return { outcome: {}, purge };
  }
  if (!found || found.kind === "code") return { outcome: {}, purge: [] };
  if (!isLive(found, now)) {
    // Expired (a spent refresh token is not revoked here): the grant still ends, for its other token may live on
    // (RFC 7009 §2.1: revoking either token of a pair revokes both), but nothing is named, as for any token that
    // was no longer valid.
    if (found.state !== "active") return { outcome: {}, purge: [] };
    const purge = context.transaction(() => context.tokens.revoke("family", found.family, now));
    return { outcome: {}, purge };
  }
  const sibling = found.sibling_sealed ? await unsealWith(token, SEAL_SIBLING, found.sibling_sealed) : null;
  const purge = context.transaction(() => {
    const row = context.tokens.find(hash);
    if (!row || !isLive(row, now)) return null;
    return context.tokens.revoke("family", row.family, now);
  });
  if (purge === null) return { outcome: {}, purge: [] };
  const outcome: RevocationOutcome = { authorizedUser: found.user ?? record.owner };
  if (found.kind === "access") {
    outcome.revokedAccessToken = token;
    if (sibling) outcome.revokedRefreshToken = sibling;
  } else {
    outcome.revokedRefreshToken = token;
    if (sibling) outcome.revokedAccessToken = sibling;
  }
  return { outcome, purge };
}
