import type { Context } from "hono";
import { generateCookie, getCookie } from "hono/cookie";
import { readConfig } from "../core/config";
import {
  formatUserStoreRoute,
  parseUserStoreRoute,
  sameUserStore,
  type UserStoreRoute,
  userStoreRoute,
} from "../core/user-store-routing";
import { hashSecret, randomSecret } from "../crypto/secrets";
import { userStoreStub } from "../durable/names";
import type { NewSession } from "../durable/user-store";
import type { SessionLifetime } from "../durable/users/sessions";
import type { AppEnv } from "../http/app-env";

/**
 * Developer-portal sessions (README "Developer portal"). The cookie holds the user store the session lives in
 * (`<n>` or `<n>-<DOMAIN>`, README "Users: the user store") and 256 random bits; that store keeps only their
 * SHA-256 with the user and the deadlines, so a cookie that was altered, made up, signed out or expired finds
 * nothing. Sign-in always starts a new session (no fixation).
 */
export const SESSION_LIFETIME: SessionLifetime = { absoluteMs: 8 * 3600_000, idleMs: 3600_000 };

/** A session as the browser's cookie names it, not yet looked up. */
export interface PresentedSession {
  route: UserStoreRoute;
  idHash: string;
}

/** A signed-in user, and the hash that names their session (the CSRF tokens are bound to it). */
export interface PortalSession extends PresentedSession {
  username: string;
}

type StoreContext = Context<AppEnv>;

const SESSION_VALUE = /^([0-9]{1,2}(?:-[A-Z0-9_]{1,32})?)\.([A-Za-z0-9_-]{43})$/;

export interface CookieSpec {
  name: string;
  path: string;
  secure: boolean;
}

/**
 * Over https the `__Host-` prefix (RFC 6265bis §4.1.3.2: Secure, Path=/, no Domain), so no sibling subdomain
 * can plant one; plain http (local runs) cannot use it and scopes the cookie to /store instead.
 */
export function portalCookie(requestUrl: string, base: string): CookieSpec {
  return new URL(requestUrl).protocol === "https:"
    ? { name: `__Host-${base}`, path: "/", secure: true }
    : { name: base, path: "/store", secure: false };
}

const sessionCookie = (c: StoreContext) => portalCookie(c.req.url, "ekm_store");

/** A session to start if the sign-in of `username` succeeds, and the `Set-Cookie` value that would hand it over. */
export interface PendingSession {
  session: NewSession;
  setCookie: string;
  route: UserStoreRoute;
}

/**
 * Prepares the session a sign-in starts: it lives in the user store of the name signing in, which starts it in
 * the call that records the successful log-in. `previous` (the browser's session, if any) ends in that same call
 * when it lives in the same store.
 */
export async function pendingSession(
  c: StoreContext,
  username: string,
  previous: PresentedSession | null,
): Promise<PendingSession> {
  const route = userStoreRoute(username, readConfig(c.env).partitions);
  const id = randomSecret(32);
  const spec = sessionCookie(c);
  const setCookie = generateCookie(spec.name, `${formatUserStoreRoute(route)}.${id}`, {
    path: spec.path,
    secure: spec.secure,
    httpOnly: true,
    sameSite: "Lax",
    maxAge: SESSION_LIFETIME.absoluteMs / 1000,
  });
  const replaces = previous && sameUserStore(previous.route, route) ? previous.idHash : null;
  return {
    session: { idHash: await hashSecret(id), lifetime: SESSION_LIFETIME, replaces },
    setCookie,
    route,
  };
}

/** The session the browser's cookie names, without looking it up; null for a malformed cookie. */
export async function presentedSession(c: StoreContext): Promise<PresentedSession | null> {
  const match = SESSION_VALUE.exec(getCookie(c, sessionCookie(c).name) ?? "");
  if (!match) return null;
  const route = parseUserStoreRoute(match[1] as string, readConfig(c.env).partitions);
  return route ? { route, idHash: await hashSecret(match[2] as string) } : null;
}

/** The session the browser's cookie names, or null. A malformed cookie is not even looked up. */
export async function currentSession(c: StoreContext): Promise<PortalSession | null> {
  const presented = await presentedSession(c);
  if (!presented) return null;
  const username = await userStoreStub(c.env, presented.route).usePortalSession(
    presented.idHash,
    SESSION_LIFETIME,
  );
  return username === null ? null : { ...presented, username };
}

/** Ends a session on the server (nothing happens for one that does not exist). */
export async function endSessionOnServer(env: Env, session: PresentedSession): Promise<void> {
  await userStoreStub(env, session.route).endPortalSession(session.idHash);
}

/** Ends the session on the server; answers the `Set-Cookie` value that makes the browser drop the cookie. */
export async function endSession(c: StoreContext, session: PresentedSession): Promise<string> {
  await endSessionOnServer(c.env, session);
  const spec = sessionCookie(c);
  return generateCookie(spec.name, "", {
    path: spec.path,
    secure: spec.secure,
    httpOnly: true,
    sameSite: "Lax",
    maxAge: 0,
  });
}
