import type { Context } from "hono";
import { generateCookie, getCookie } from "hono/cookie";
import { base64url, utf8 } from "../crypto/encoding";
import { randomSecret, timingSafeEqual } from "../crypto/secrets";
import type { AppEnv } from "../http/app-env";
import { formKey } from "../services/form-keys";
import { portalCookie } from "./session";

/**
 * Cross-site request protection of every portal form (OWASP "synchronizer token" and origin checks):
 * - each form carries a token that is an HMAC of the session id's hash (signed in) or of a random sign-in
 *   cookie (signed out), so it is worthless with any other session and cannot be computed elsewhere;
 * - a POST whose `Origin` (or, without one, `Sec-Fetch-Site`) says it came from another site is refused
 *   before anything else is read.
 */
const KEY_LABEL = "edge-key-manager/store-forms/v1";
export const CSRF_FIELD = "csrf";
const SIGN_IN_COOKIE_MAX_AGE = 3600;
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

type StoreContext = Context<AppEnv>;

async function mac(env: Env, purpose: string, binding: string): Promise<string> {
  const key = await formKey(env, KEY_LABEL);
  const signature = await crypto.subtle.sign("HMAC", key, utf8.encode(`${purpose}\n${binding}`));
  return base64url(new Uint8Array(signature));
}

/** The token of forms shown in a session. */
export function sessionToken(env: Env, idHash: string): Promise<string> {
  return mac(env, "session", idHash);
}

export async function validSessionToken(env: Env, idHash: string, presented: string | undefined) {
  return presented !== undefined && timingSafeEqual(await sessionToken(env, idHash), presented);
}

const signInCookie = (c: StoreContext) => portalCookie(c.req.url, "ekm_store_signin");

/**
 * The sign-in form's token, and the `Set-Cookie` value of the random cookie it is bound to when the browser
 * has none yet.
 */
export async function signInToken(c: StoreContext): Promise<{ token: string; setCookie?: string }> {
  const existing = getCookie(c, signInCookie(c).name);
  if (existing && COOKIE_VALUE.test(existing)) return { token: await mac(c.env, "sign-in", existing) };
  const value = randomSecret(32);
  const spec = signInCookie(c);
  const setCookie = generateCookie(spec.name, value, {
    path: spec.path,
    secure: spec.secure,
    httpOnly: true,
    sameSite: "Lax",
    maxAge: SIGN_IN_COOKIE_MAX_AGE,
  });
  return { token: await mac(c.env, "sign-in", value), setCookie };
}

export async function validSignInToken(c: StoreContext, presented: string | undefined): Promise<boolean> {
  const value = getCookie(c, signInCookie(c).name);
  if (!value || !COOKIE_VALUE.test(value) || presented === undefined) return false;
  return timingSafeEqual(await mac(c.env, "sign-in", value), presented);
}

/** False when the browser says the request comes from another origin (Fetch Metadata, RFC 6454 Origin). */
export function sameOrigin(request: Request): boolean {
  const origin = request.headers.get("origin");
  if (origin !== null) return origin === new URL(request.url).origin;
  const site = request.headers.get("sec-fetch-site");
  return site === null || site === "same-origin" || site === "none";
}
