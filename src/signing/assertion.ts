import type { KeyType } from "../core/client-record";
import type { Config } from "../core/config";
import { signerFor } from "../durable/signing/signer";

/** WSO2's claim dialect (`ConsumerDialectURI`). */
export const WSO2_DIALECT = "http://wso2.org/claims/";
/** WSO2's tenant id of the super tenant (MultitenantConstants.SUPER_TENANT_ID). */
const SUPER_TENANT = "carbon.super";
const SUPER_TENANT_ID = "-1234";

/** Who calls which API: what an X-JWT-Assertion states (README "X-JWT-Assertion: who calls, signed, for the backend"). */
export interface AssertionSubject {
  /** The metadata's issuer: the origin the gateway was called at. */
  issuer: string;
  api: { context: string; version: string };
  application: { id: string; name: string; owner: string; tier: string };
  keyType: KeyType;
  /** End user of a user token; the application owner for an application token. */
  user: string;
  isApplicationToken: boolean;
  /** The subscription's tier. */
  tier: string;
  /** The token's expiry (epoch ms), or null when it never expires. */
  tokenExpiresAt: number | null;
}

/**
 * WSO2 "enduserTenantId": -1234 for the super tenant, as WSO2 sends it. This service keeps no tenant registry
 * with numeric ids, so another tenant gets a stable positive number derived from its domain (FNV-1a, 31 bits).
 */
export function tenantId(tenant: string): string {
  if (tenant === SUPER_TENANT) return SUPER_TENANT_ID;
  let hash = 0x811c9dc5;
  for (let i = 0; i < tenant.length; i++) hash = Math.imul(hash ^ tenant.charCodeAt(i), 0x01000193);
  return String((hash >>> 0) & 0x7fffffff);
}

/** The claims of an assertion other than `iat` and `exp`. */
export function assertionClaims(subject: AssertionSubject): Record<string, string> {
  const tenant = subject.user.slice(subject.user.lastIndexOf("@") + 1);
  return {
    iss: subject.issuer,
    sub: subject.user,
    [`${WSO2_DIALECT}subscriber`]: subject.application.owner,
    [`${WSO2_DIALECT}applicationid`]: subject.application.id,
    [`${WSO2_DIALECT}applicationname`]: subject.application.name,
    [`${WSO2_DIALECT}applicationtier`]: subject.application.tier,
    [`${WSO2_DIALECT}apicontext`]: `${subject.api.context}/${subject.api.version}`,
    [`${WSO2_DIALECT}version`]: subject.api.version,
    [`${WSO2_DIALECT}tier`]: subject.tier,
    [`${WSO2_DIALECT}keytype`]: subject.keyType,
    [`${WSO2_DIALECT}usertype`]: subject.isApplicationToken ? "APPLICATION" : "APPLICATION_USER",
    [`${WSO2_DIALECT}enduser`]: subject.user,
    [`${WSO2_DIALECT}enduserTenantId`]: tenantId(tenant),
  };
}

/** Signed assertions this isolate has made, by everything they state, reused until shortly before expiry. */
const MAX_CACHED = 10_000;
/** An assertion is not reused in its last minute (or last quarter of a shorter life). */
const RENEW_BEFORE_SECONDS = 60;
const cache = new Map<string, { jwt: string; reuseUntil: number }>();

/**
 * The X-JWT-Assertion for a call: `iss`, `sub`, `iat`, `exp` and WSO2's claims, signed with the active key
 * (src/durable/signing/signer.ts). `exp` is JWT_ASSERTION_VALIDITY after `iat` and never past the token's
 * expiry. The same statement (token expiry, user, application, API, tiers) gets the same signed assertion
 * back until shortly before it expires, so a warm gateway call costs a map look-up, not a signature.
 */
export async function signedAssertion(env: Env, config: Config, subject: AssertionSubject): Promise<string> {
  const claims = assertionClaims(subject);
  const cacheKey = `${subject.tokenExpiresAt ?? "never"}\n${JSON.stringify(claims)}`;
  const nowMs = Date.now();
  const cached = cache.get(cacheKey);
  if (cached && nowMs < cached.reuseUntil) return cached.jwt;

  const iat = Math.floor(nowMs / 1000);
  let exp = iat + config.jwtAssertionValidity;
  if (subject.tokenExpiresAt !== null) exp = Math.min(exp, Math.floor(subject.tokenExpiresAt / 1000));
  const jwt = await signerFor(env, config).sign({ typ: "JWT", claims: { ...claims, iat, exp } });
  const renewBefore = Math.min(RENEW_BEFORE_SECONDS, (exp - iat) / 4);
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(cacheKey, { jwt, reuseUntil: (exp - renewBefore) * 1000 });
  return jwt;
}
