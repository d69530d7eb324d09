import type { ClientRecord } from "../../core/client-record";
import { NEVER_EXPIRES_IN } from "../../core/config";
import { refuse } from "../../core/oauth-failure";
import { mintToken, type TokenRoute } from "../../core/token-format";
import type { JwtSigner } from "../signing/signer";

/** What minting a JWT access token needs beyond the shard's own state: the issuer asked, and a signer. */
export interface JwtIssuance {
  /** The metadata's issuer: the origin the token endpoint was called at. */
  issuer: string;
  signer: JwtSigner;
}

/** RFC 9068 §2.1: the media type of a JWT access token, in its `typ` header. */
export const JWT_ACCESS_TOKEN_TYPE = "at+jwt";

export interface AccessTokenFacts {
  user: string | null;
  scope: string;
  issuedAt: number;
  /** Epoch ms, or null when the token never expires. */
  expiresAt: number | null;
}

/** An opaque access token is random: minting it needs nothing of the grant (a JWT carries its claims). */
export function mintsOpaqueAccessTokens(record: ClientRecord): boolean {
  return record.accessTokenFormat !== "JWT";
}

/**
 * A new access token in the application's format. Opaque: `<consumerKey>.<shard>.<random>`. JWT (RFC 9068
 * §2.2): the same string is its `jti`, so the token still names its shard (src/core/token-format.ts reads it
 * back) and is still stored only as the SHA-256 of what the client holds; revocation, rotation and
 * regeneration treat both alike. `sub` is the user, or the client for an application token (§2.2); `aud` is
 * the issuer, whose gateway is the resource server. A token that never expires gets `exp` NEVER_EXPIRES_IN
 * seconds after `iat`, as its `expires_in` says.
 */
export async function newAccessToken(
  jwt: JwtIssuance,
  record: ClientRecord,
  route: TokenRoute,
  facts: AccessTokenFacts,
): Promise<string> {
  const jti = mintToken(route);
  if (mintsOpaqueAccessTokens(record)) return jti;
  const iat = Math.floor(facts.issuedAt / 1000);
  const exp = facts.expiresAt === null ? iat + NEVER_EXPIRES_IN : Math.floor(facts.expiresAt / 1000);
  try {
    return await jwt.signer.sign({
      typ: JWT_ACCESS_TOKEN_TYPE,
      claims: {
        iss: jwt.issuer,
        sub: facts.user ?? record.consumerKey,
        aud: jwt.issuer,
        client_id: record.consumerKey,
        scope: facts.scope,
        jti,
        iat,
        exp,
      },
    });
  } catch (error) {
    console.error("a JWT access token could not be signed:", error instanceof Error ? error.message : error);
    throw refuse("temporarily_unavailable", "the access token could not be signed; try again");
  }
}
