import { base64url, fromBase64url, fromUtf8, utf8 } from "../../crypto/encoding";
import { randomSecret } from "../../crypto/secrets";
import { formKey } from "../../services/form-keys";

/**
 * CSRF protection of the login and consent forms (RFC 6749 §10.12, §10.13; OWASP "signed double-submit
 * cookie"). Each form carries one hidden field: the authorization request (and, on the consent form, the
 * authenticated user) as base64url JSON, plus an HMAC over it, its stage and the value of a random cookie
 * the browser holds. A form only verifies when it comes back with that same cookie, unaltered, before it
 * expires. Another site can neither read the cookie nor make a browser send it on a cross-site POST
 * (SameSite=Lax), so it cannot produce a form that verifies.
 *
 * The HMAC key is derived from a random secret the Registry Durable Object generates once and keeps.
 */
export const CSRF_COOKIE_MAX_AGE = 3600;

export interface CsrfCookieSpec {
  name: string;
  path: string;
  secure: boolean;
}

/**
 * The cookie's name and scope for a request URL. Over https it carries the `__Host-` prefix (RFC 6265bis
 * §4.1.3.2): Secure, Path=/, no Domain, so no other host (a sibling subdomain) can plant a value the attacker
 * knows. Plain http (local runs) cannot use the prefix and scopes the cookie to /authorize instead.
 */
export function csrfCookieSpec(requestUrl: string): CsrfCookieSpec {
  return new URL(requestUrl).protocol === "https:"
    ? { name: "__Host-ekm_authz", path: "/", secure: true }
    : { name: "ekm_authz", path: "/authorize", secure: false };
}
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
const KEY_LABEL = "edge-key-manager/authorize-forms/v1";

export type FormStage = "login" | "consent";

export type FormCheck<T> =
  | { ok: true; payload: T }
  | { ok: false; reason: "no_cookie" | "invalid" | "expired"; payload?: T };

const signingKey = (env: Env) => formKey(env, KEY_LABEL);

function signedText(stage: FormStage, body: string, cookie: string): Uint8Array {
  return utf8.encode(`${stage}\n${body}\n${cookie}`);
}

/** A fresh CSRF cookie value (256 random bits), or the browser's own if it already has a well-formed one. */
export function csrfCookieValue(existing: string | undefined): { value: string; isNew: boolean } {
  if (existing && COOKIE_VALUE.test(existing)) return { value: existing, isNew: false };
  return { value: randomSecret(32), isNew: true };
}

/** Signs `payload` for a form of `stage`, bound to the browser's CSRF cookie, valid for `ttlSeconds`. */
export async function signForm<T>(
  env: Env,
  options: { stage: FormStage; payload: T; cookie: string; ttlSeconds: number; now?: number },
): Promise<string> {
  const now = options.now ?? Date.now();
  const envelope = { exp: Math.floor(now / 1000) + options.ttlSeconds, data: options.payload };
  const body = base64url(utf8.encode(JSON.stringify(envelope)));
  const signature = await crypto.subtle.sign(
    "HMAC",
    await signingKey(env),
    signedText(options.stage, body, options.cookie),
  );
  return `${body}.${base64url(new Uint8Array(signature))}`;
}

/**
 * Verifies a form field signed by {@link signForm}. An expired but authentic form reports its payload, so the
 * page can offer to start over; a forged, altered or foreign-cookie form reports nothing.
 */
export async function verifyForm<T>(
  env: Env,
  options: { stage: FormStage; field: string | undefined; cookie: string | undefined; now?: number },
): Promise<FormCheck<T>> {
  const { field, cookie } = options;
  if (!cookie || !COOKIE_VALUE.test(cookie)) return { ok: false, reason: "no_cookie" };
  const [body, signature, extra] = (field ?? "").split(".");
  if (!body || !signature || extra !== undefined) return { ok: false, reason: "invalid" };
  let authentic = false;
  try {
    authentic = await crypto.subtle.verify(
      "HMAC",
      await signingKey(env),
      fromBase64url(signature),
      signedText(options.stage, body, cookie),
    );
  } catch {
    authentic = false;
  }
  if (!authentic) return { ok: false, reason: "invalid" };
  const envelope = JSON.parse(fromUtf8.decode(fromBase64url(body))) as { exp: number; data: T };
  const now = options.now ?? Date.now();
  if (envelope.exp * 1000 <= now) return { ok: false, reason: "expired", payload: envelope.data };
  return { ok: true, payload: envelope.data };
}
