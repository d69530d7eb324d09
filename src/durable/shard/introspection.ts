import type { AccessTokenFacts } from "../../cache/facts";
import type { ClientRecord } from "../../core/client-record";
import { NEVER_EXPIRES_IN } from "../../core/config";
import type { Introspection, SubjectToken } from "./protocol";
import type { TokenRow } from "./schema";

/** A token row that can still be used: active and not expired. */
export function isLive(row: TokenRow, now: number): boolean {
  return row.state === "active" && (row.expires_at === null || row.expires_at > now);
}

/**
 * RFC 7662 §2.2 for a token row of this shard. `callerTenant` null is the operator; a client sees only tokens
 * of its own tenant, and anything else reads as inactive.
 */
export function introspection(
  row: TokenRow | null,
  record: ClientRecord | null,
  callerTenant: string | null,
  now: number,
): Introspection {
  if (!row || !record || !isLive(row, now) || row.kind === "code") return { active: false };
  if (callerTenant !== null && callerTenant !== record.tenant) return { active: false };
  const username = row.user ?? record.owner;
  return {
    active: true,
    scope: row.scope,
    client_id: record.consumerKey,
    username,
    token_type: row.kind === "access" ? "Bearer" : "refresh_token",
    // A token that never expires reports `exp` NEVER_EXPIRES_IN seconds after `iat`, as its `expires_in` and a
    // JWT access token's `exp` do: clients that require `exp` (it is OPTIONAL in RFC 7662 §2.2) get one.
    exp: Math.floor((row.expires_at ?? row.issued_at + NEVER_EXPIRES_IN * 1000) / 1000),
    iat: Math.floor(row.issued_at / 1000),
    sub: username,
    key_type: record.keyType,
  };
}

/** What the gateway caches about an active access token (src/cache/facts.ts); null for anything else. */
export function accessTokenFacts(
  row: TokenRow | null,
  record: ClientRecord | null,
  now: number,
): AccessTokenFacts | null {
  if (!row || row.kind !== "access" || !isLive(row, now) || !record) return null;
  return {
    consumerKey: record.consumerKey,
    applicationId: record.applicationId,
    applicationName: record.applicationName,
    keyType: record.keyType,
    user: row.user ?? record.owner,
    isApplicationToken: row.user === null,
    scope: row.scope,
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    allowedDomains: record.allowedDomains,
  };
}

/** RFC 8693: what token exchange may use of an active access token (src/oauth/grants/token-exchange.ts). */
export function subjectToken(
  row: TokenRow | null,
  record: ClientRecord | null,
  now: number,
): SubjectToken | null {
  if (!row || !record || row.kind !== "access" || !isLive(row, now)) return null;
  return {
    user: row.user,
    scope: row.scope,
    keyType: record.keyType,
    tenant: record.tenant,
    userEpoch: row.user_epoch ?? 0,
  };
}
