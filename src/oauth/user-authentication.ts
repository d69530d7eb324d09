import { hashPassword, type PasswordHash, verifyPassword } from "../crypto/password";
import { registryStub } from "../durable/names";
import type { Env } from "../env";
import { OAuthError } from "../errors/oauth-error";

/**
 * Resource-owner authentication against the registry's user store, shared by the password grant
 * (RFC 6749 §4.3.2) and the authorization endpoint's login page (RFC 6749 §3.1: "the authorization server
 * MUST first verify the identity of the resource owner"). One place, so both count failures into the same
 * per-user lockout (`UserStore.recordLogin`, `src/durable/lockout.ts`).
 *
 * The user name is any accepted spelling: `alice`, `alice@carbon.super`, `FOO/alice` (a secondary user store).
 */
export type UserAuthentication =
  | { ok: true; username: string }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "locked"; retryAfter: number };

/** A hash verified for names that do not exist, so that an unknown user costs as much time as a wrong password. */
let decoy: Promise<PasswordHash> | null = null;

export async function authenticateUser(
  env: Env,
  username: string,
  password: string,
): Promise<UserAuthentication> {
  const registry = registryStub(env);
  const credential = await registry.getUserCredential(username);
  if (!credential) {
    decoy ??= hashPassword("edge-key-manager decoy password");
    await verifyPassword(password, await decoy);
    return { ok: false, reason: "invalid_credentials" };
  }
  if (credential.lockedFor > 0) return { ok: false, reason: "locked", retryAfter: credential.lockedFor };
  const ok = await verifyPassword(password, credential.password);
  await registry.recordLogin(credential.username, ok);
  return ok ? { ok: true, username: credential.username } : { ok: false, reason: "invalid_credentials" };
}

/** What a failed log-in reads as to a person at the login page. */
export function loginFailureMessage(failure: Exclude<UserAuthentication, { ok: true }>): string {
  return failure.reason === "locked"
    ? `This account is locked after too many failed sign-in attempts. Try again in ${failure.retryAfter} seconds.`
    : "The user name or password is incorrect.";
}

/** The password grant's error for a failed log-in (RFC 6749 §5.2 invalid_grant). */
export function userAuthenticationError(failure: Exclude<UserAuthentication, { ok: true }>): OAuthError {
  return failure.reason === "locked"
    ? new OAuthError(
        "invalid_grant",
        `the account is locked after failed log-ins; try again in ${failure.retryAfter} seconds`,
      )
    : new OAuthError("invalid_grant", "invalid username or password");
}

/** Authenticates a user or throws the password grant's invalid_grant. Returns the canonical user name. */
export async function verifyUser(env: Env, username: string, password: string): Promise<string> {
  const result = await authenticateUser(env, username, password);
  if (!result.ok) throw userAuthenticationError(result);
  return result.username;
}
