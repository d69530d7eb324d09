import { loginPrincipal } from "../core/identity";
import { hashPassword, type PasswordHash, verifyPassword } from "../crypto/password";
import { userStoreOf } from "../durable/names";
import type { NewSession } from "../durable/user-store";
import type { LoginOutcome } from "../durable/users/login-throttle";
import { OAuthError } from "../errors/oauth-error";

/**
 * Resource-owner authentication against the user store (src/durable/user-store.ts), shared by the password grant
 * (RFC 6749 §4.3.2), the authorization endpoint's login page (RFC 6749 §3.1: "the authorization server MUST
 * first verify the identity of the resource owner") and the developer portal's sign-in. One place, so all go
 * through the same throttle (README "Lock-out and throttling"; src/durable/users/login-throttle.ts).
 *
 * It is two calls to the one user-store object that holds the name, the fewest exact throttling allows: the
 * attempt must be counted before the password is evaluated, and its outcome told after. `checkUser` has the
 * store admit the attempt (counted against the name and the request's source before anything is evaluated) and
 * hand over the stored hash, waits out the user's pace if it is being slowed, then verifies the password here in
 * the stateless Worker (PBKDF2, about 12 ms of CPU, which would stall a single-threaded Durable Object);
 * `recordLogin` tells the store how the attempt ended (and starts a portal session in that same call). The
 * password grant puts the client's authentication between the two.
 *
 * Every failure reads the same to the caller, whether the user does not exist, the password is wrong or the
 * source is throttled: nothing says whether a user exists. The user name is any accepted spelling: `alice`,
 * `alice@carbon.super`, `FOO/alice` (a secondary user store).
 */
export type UserCheck =
  | { ok: true; username: string; epoch: number; attempt: LoginAttempt }
  | { ok: false; attempt: LoginAttempt | null };

/** An attempt the user store admitted, to be finished with its outcome. */
export interface LoginAttempt {
  principal: string;
  source: string;
}

/** A hash verified for names that do not exist, so that an unknown user costs as much time as a wrong password. */
let decoy: Promise<PasswordHash> | null = null;

export async function checkUser(
  env: Env,
  username: string,
  password: string,
  source: string,
): Promise<UserCheck> {
  const principal = loginPrincipal(username);
  const { gate, credential } = await userStoreOf(env, principal).beginLogin(principal, source);
  if (!gate.ok) return { ok: false, attempt: null };
  if (gate.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, gate.waitMs));
  const attempt = { principal, source };
  if (!credential) {
    decoy ??= hashPassword("edge-key-manager decoy password");
    await verifyPassword(password, await decoy);
    return { ok: false, attempt };
  }
  return (await verifyPassword(password, credential.password))
    ? { ok: true, username: credential.username, epoch: credential.epoch, attempt }
    : { ok: false, attempt };
}

/**
 * Tells the user store how an admitted attempt ended (nothing to tell for one the throttle refused); a successful
 * portal sign-in's session starts in the same call.
 */
export async function recordLogin(
  env: Env,
  check: UserCheck,
  outcome?: LoginOutcome,
  session: NewSession | null = null,
): Promise<void> {
  if (!check.attempt) return;
  const result = outcome ?? (check.ok ? "success" : "failure");
  const { principal, source } = check.attempt;
  await userStoreOf(env, principal).finishLogin(principal, source, result, session);
}

/** Both steps at once, for the login page and the portal's sign-in (`session`: the one to start on success). */
export async function authenticateUser(
  env: Env,
  username: string,
  password: string,
  source: string,
  session: NewSession | null = null,
): Promise<UserCheck> {
  const check = await checkUser(env, username, password, source);
  await recordLogin(env, check, undefined, session);
  return check;
}

/** What a failed log-in reads as to a person at the login page: the same for every cause. */
export function loginFailureMessage(): string {
  return "The user name or password is incorrect, or there were too many failed attempts from here. Try again later.";
}

/** The password grant's error for a failed log-in (RFC 6749 §5.2 invalid_grant): the same for every cause. */
export function userAuthenticationError(): OAuthError {
  return new OAuthError(
    "invalid_grant",
    "invalid username or password, or too many failed attempts from this address; try again later",
  );
}
