import type { ClientRecord } from "../../core/client-record";
import { unsealWith } from "../../crypto/secrets";
import { isLive } from "./introspection";
import { SEAL_SIBLING, type ShardStore } from "./minting";
import type { RevocationOutcome } from "./protocol";
import type { TokenRow } from "./schema";

/**
 * RFC 7009 revocation of a token of this shard, with WSO2's answer: the values of the tokens revoked and the
 * user they were issued to. Revoking either token of a pair revokes the whole grant (its family); the
 * sibling's value is recovered from its sealed copy with the presented token. An unknown, expired or already
 * revoked token changes nothing (RFC 7009 §2.2). The client has been authenticated already.
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
  if (!found || !isLive(found, now) || found.kind === "code") return { outcome: {}, purge: [] };
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
