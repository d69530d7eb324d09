import type { Context } from "hono";
import { generateCookie, getCookie } from "hono/cookie";
import { hashSecret, randomSecret } from "../crypto/secrets";
import { registryStub } from "../durable/names";
import type { SessionLifetime } from "../durable/registry/sessions";
import type { AppEnv } from "../http/app-env";

/**
 * Developer-portal sessions (README "Developer portal"). The cookie holds 256 random bits and nothing else;
 * the Registry keeps only their SHA-256 with the user and the deadlines, so a cookie that was altered, made
 * up, signed out or expired finds nothing. Sign-in always starts a new session (no fixation).
 */
export const SESSION_LIFETIME: SessionLifetime = { absoluteMs: 8 * 3600_000, idleMs: 3600_000 };

/** A signed-in user, and the hash that names their session (the CSRF tokens are bound to it). */
export interface PortalSession {
  username: string;
  idHash: string;
}

type StoreContext = Context<AppEnv>;

const SESSION_VALUE = /^[A-Za-z0-9_-]{43}$/;

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

/** Starts a session for `username`; answers the `Set-Cookie` value that hands it to the browser. */
export async function startSession(c: StoreContext, username: string): Promise<string> {
  const id = randomSecret(32);
  await registryStub(c.env).createPortalSession(await hashSecret(id), username, SESSION_LIFETIME);
  const spec = sessionCookie(c);
  return generateCookie(spec.name, id, {
    path: spec.path,
    secure: spec.secure,
    httpOnly: true,
    sameSite: "Lax",
    maxAge: SESSION_LIFETIME.absoluteMs / 1000,
  });
}

/** The session the browser's cookie names, or null. A malformed cookie is not even looked up. */
export async function currentSession(c: StoreContext): Promise<PortalSession | null> {
  const id = getCookie(c, sessionCookie(c).name);
  if (!id || !SESSION_VALUE.test(id)) return null;
  const idHash = await hashSecret(id);
  const username = await registryStub(c.env).usePortalSession(idHash, SESSION_LIFETIME);
  return username === null ? null : { username, idHash };
}

/** Ends the session on the server; answers the `Set-Cookie` value that makes the browser drop the cookie. */
export async function endSession(c: StoreContext, session: PortalSession): Promise<string> {
  await registryStub(c.env).endPortalSession(session.idHash);
  const spec = sessionCookie(c);
  return generateCookie(spec.name, "", {
    path: spec.path,
    secure: spec.secure,
    httpOnly: true,
    sameSite: "Lax",
    maxAge: 0,
  });
}
