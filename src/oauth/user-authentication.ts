import { hashPassword, type PasswordHash, verifyPassword } from "../crypto/password";
import { registryStub } from "../durable/names";
import { OAuthError } from "../errors/oauth-error";

/**
 * Resource-owner authentication against the registry's user store, shared by the password grant
 * (RFC 6749 §4.3.2) and the authorization endpoint's login page (RFC 6749 §3.1: "the authorization server
 * MUST first verify the identity of the resource owner"). One place, so both count failures into the same
 * per-user lockout (src/durable/lockout.ts).
 *
 * It is two steps, so the password grant can put the client's authentication between them: `checkUser` reads
 * the user's record (one registry call) and verifies the password here in the stateless Worker (PBKDF2, about
 * 11 ms of CPU, which would stall a single-threaded Durable Object); `recordLogin` writes the outcome, and
 * only when there is something to write (a failure, or earlier failures to clear).
 *
 * The user name is any accepted spelling: `alice`, `alice@carbon.super`, `FOO/alice` (a secondary user store).
 */
export type UserCheck =
  | { ok: true; username: string; clearFailures: boolean; epoch: number }
  | { ok: false; reason: "invalid_credentials"; username: string | null }
  | { ok: false; reason: "locked"; retryAfter: number };

export type UserFailure = Exclude<UserCheck, { ok: true }>;

/** A hash verified for names that do not exist, so that an unknown user costs as much time as a wrong password. */
let decoy: Promise<PasswordHash> | null = null;

export async function checkUser(env: Env, username: string, password: string): Promise<UserCheck> {
  const credential = await registryStub(env).getUserCredential(username);
  if (!credential) {
    decoy ??= hashPassword("edge-key-manager decoy password");
    await verifyPassword(password, await decoy);
    return { ok: false, reason: "invalid_credentials", username: null };
  }
  if (credential.lockedFor > 0) return { ok: false, reason: "locked", retryAfter: credential.lockedFor };
  return (await verifyPassword(password, credential.password))
    ? {
        ok: true,
        username: credential.username,
        clearFailures: credential.hasFailures,
        epoch: credential.epoch,
      }
    : { ok: false, reason: "invalid_credentials", username: credential.username };
}

/** Counts a failed log-in of an existing user, or clears earlier failures after a success. */
export async function recordLogin(env: Env, check: UserCheck): Promise<void> {
  if (check.ok && check.clearFailures) await registryStub(env).recordLogin(check.username, true);
  if (!check.ok && check.reason === "invalid_credentials" && check.username !== null) {
    await registryStub(env).recordLogin(check.username, false);
  }
}

/** Both steps at once, for the login page. */
export async function authenticateUser(env: Env, username: string, password: string): Promise<UserCheck> {
  const check = await checkUser(env, username, password);
  await recordLogin(env, check);
  return check;
}

/** What a failed log-in reads as to a person at the login page. */
export function loginFailureMessage(failure: UserFailure): string {
  return failure.reason === "locked"
    ? `This account is locked after too many failed sign-in attempts. Try again in ${failure.retryAfter} seconds.`
    : "The user name or password is incorrect.";
}

/** The password grant's error for a failed log-in (RFC 6749 §5.2 invalid_grant). */
export function userAuthenticationError(failure: UserFailure): OAuthError {
  return failure.reason === "locked"
    ? new OAuthError(
        "invalid_grant",
        `the account is locked after failed log-ins; try again in ${failure.retryAfter} seconds`,
      )
    : new OAuthError("invalid_grant", "invalid username or password");
}
