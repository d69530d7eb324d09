import { decodeJwt, errors, type JWTPayload, jwtVerify } from "jose";
import { canonicalUserName } from "../../core/identity";
import { grantScope } from "../../core/scope";
import { userTokenRoute } from "../../core/shard-routing";
import { hashSecret } from "../../crypto/secrets";
import { registryStub, shardStub, userStoreOf } from "../../durable/names";
import type { TrustedIssuerView } from "../../durable/registry/trusted-issuers";
import { OAuthError } from "../../errors/oauth-error";
import { requireParam } from "../../http/form";
import { settle } from "../../services/shard-result";
import { trustedKeys } from "../trusted-keys";
import type { Grant } from "./grant";

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Clock tolerance for `exp`, `nbf` and `iat` (RFC 7523 §3 items 4-6: "some small leeway"). */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** Longest accepted assertion lifetime from now: bounds how long a used `jti` must be remembered (§3 item 4). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 3600;
/** Asymmetric signatures only: an issuer is trusted by its public keys, never by a shared secret or `none`. */
const ALGORITHMS = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"];
const MAX_JTI_LENGTH = 512;

const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);

/**
 * RFC 7523 §2.1: a JWT from a trusted issuer (`/admin/trusted-issuers`) as an authorization grant. The client
 * authenticates (§3.1 leaves it to policy: here a confidential client, as for the password grant); the
 * assertion must verify against the issuer's keys, with `iss`, `aud` (the token endpoint, this issuer, or the
 * audience configured for the issuer), `exp`, `nbf` and `iat` within a 30 s tolerance, a `jti`, and a `sub`
 * naming an existing user (`alice`, `alice@tenant`, `FOO/alice`). A `jti` is accepted once while the
 * assertion lives. Every failure is 400 invalid_grant (§3.1) and changes nothing. The answer is a user access
 * token of the client, without a refresh token: the client presents a fresh assertion instead.
 */
export const jwtBearerGrant: Grant = {
  type: JWT_BEARER,
  async issue({ env, config, params, client, issuer, tokenEndpoint }) {
    const { credentials, routing } = client;
    const assertion = requireParam(params, "assertion");
    const scope = params.get("scope") ?? null;
    const unverified = decodeUnverified(assertion);
    const subject = typeof unverified.sub === "string" ? unverified.sub : "";
    const canonical = canonicalUserName(subject) ?? subject;
    const route = userTokenRoute(credentials.clientId, canonical, routing.shards, config.partitions);
    const shard = shardStub(env, route);
    await settle(env, config, await shard.authenticateClient(route, credentials));
    grantScope(scope, routing.keyType);

    const trusted = await trustedIssuerOf(env, unverified);
    // RFC 7523 §3 item 3: the token endpoint's URL identifies this authorization server; so does the issuer.
    const claims = await verifyAssertion(assertion, trusted, [tokenEndpoint, issuer]);
    // The subject first: nothing is recorded (the jti stays unused) when it is not a known user.
    const user = await userStoreOf(env, claims.sub).findUser(claims.sub);
    if (!user) throw invalidGrant("the assertion's subject is not a known user");
    const accepted = await registryStub(env).acceptAssertion({
      issuerId: trusted.id,
      jtiHash: await hashSecret(`${trusted.id}\n${claims.jti}`),
      expiresAt: (claims.exp + CLOCK_TOLERANCE_SECONDS) * 1000,
    });
    if (!accepted.ok) throw invalidGrant(accepted.reason);
    return settle(
      env,
      config,
      await shard.issueToken({
        route,
        issuer,
        credentials,
        grantType: JWT_BEARER,
        scope,
        user: user.username,
        userEpoch: user.epoch,
        withRefresh: false,
      }),
    );
  },
};

function decodeUnverified(assertion: string): JWTPayload {
  try {
    return decodeJwt(assertion);
  } catch {
    throw invalidGrant("the assertion is not a JWT (RFC 7519)");
  }
}

async function trustedIssuerOf(env: Env, claims: JWTPayload): Promise<TrustedIssuerView> {
  if (typeof claims.iss !== "string" || claims.iss === "") throw invalidGrant("the assertion has no iss");
  const trusted = await registryStub(env).findTrustedIssuer(claims.iss);
  if (!trusted) throw invalidGrant(`the assertion's issuer ${claims.iss} is not trusted`);
  return trusted;
}

interface AssertionClaims {
  sub: string;
  jti: string;
  exp: number;
}

/** RFC 7523 §3: signature, iss, aud, exp, nbf, iat, sub and jti; jose does the JOSE part. */
async function verifyAssertion(
  assertion: string,
  trusted: TrustedIssuerView,
  ourNames: string[],
): Promise<AssertionClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, trustedKeys(trusted), {
      issuer: trusted.issuer,
      audience: trusted.audience ?? ourNames,
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp", "sub", "jti"],
    }));
  } catch (error) {
    throw invalidGrant(verificationFailure(error));
  }
  const now = Math.floor(Date.now() / 1000);
  const { sub, jti, exp, iat } = payload as AssertionClaims & { iat?: number };
  if (typeof iat === "number" && iat > now + CLOCK_TOLERANCE_SECONDS) {
    throw invalidGrant("the assertion was issued in the future (iat)");
  }
  if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS) {
    throw invalidGrant(`the assertion expires more than ${MAX_ASSERTION_LIFETIME_SECONDS} s from now (exp)`);
  }
  if (typeof sub !== "string" || typeof jti !== "string" || jti === "" || jti.length > MAX_JTI_LENGTH) {
    throw invalidGrant("the assertion's sub and jti must be strings");
  }
  return { sub, jti, exp };
}

/** What went wrong, for error_description. */
function verificationFailure(error: unknown): string {
  if (error instanceof errors.JWKSTimeout) return "the issuer's JWKS did not arrive in time; try again later";
  if (error instanceof errors.JWTExpired) return "the assertion has expired (exp)";
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === "nbf"
      ? "the assertion is not yet valid (nbf)"
      : `the assertion's ${error.claim} claim is not acceptable: ${error.reason}`;
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
    return "the assertion's signature does not verify with the issuer's keys";
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return "the assertion's alg is not accepted (asymmetric only)";
  if (error instanceof errors.JOSEError) return `the assertion is not valid (${error.code})`;
  // A JWKS that could not be fetched at all (network error, not JSON): not the client's fault, but the
  // assertion cannot be checked, so it is not accepted.
  return "the issuer's keys could not be fetched";
}
