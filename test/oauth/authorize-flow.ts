// Drives the authorization endpoint the way a browser does: GET /authorize, the login form, the consent form,
// carrying the CSRF cookie by hand (SELF.fetch has no cookie jar) and never following redirects.
import { expect } from "vitest";
import { ADMIN_TOKEN, call, type Keys, postForm } from "../helpers";

export const CALLBACK = "https://client.example.com/callback";
export const ISSUER = "http://localhost:8787";
export const COOKIE_NAME = "ekm_authz";

export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const verifier = b64url(bytes);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return { verifier, challenge: b64url(digest) };
}

export function b64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function sha256b64url(text: string): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** GET /authorize with the given query (string values; a repeated parameter as an array). */
export function getAuthorize(params: Record<string, string | string[]>, cookie?: string): Promise<Response> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) query.append(name, item);
  }
  return call(`/authorize?${query.toString()}`, {
    redirect: "manual",
    headers: cookie ? { Cookie: `${COOKIE_NAME}=${cookie}` } : {},
  });
}

export function cookieOf(response: Response): string | null {
  const header = response.headers.get("set-cookie") ?? "";
  const match = new RegExp(`${COOKIE_NAME}=([^;]+)`).exec(header);
  return match ? (match[1] as string) : null;
}

export function hiddenField(html: string, name = "authz"): string {
  const match = new RegExp(`name="${name}" value="([^"]+)"`).exec(html);
  if (!match) throw new Error(`no hidden field ${name} in page:\n${html.slice(0, 2000)}`);
  return match[1] as string;
}

export function postPage(
  path: string,
  params: Record<string, string>,
  cookie: string | null,
): Promise<Response> {
  return call(path, {
    method: "POST",
    redirect: "manual",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      ...(cookie ? { Cookie: `${COOKIE_NAME}=${cookie}` } : {}),
    },
    body: new URLSearchParams(params).toString(),
  });
}

/** The parameters of an authorization response, from the query or the fragment of its Location. */
export function responseParams(response: Response, mode: "query" | "fragment" = "query"): URLSearchParams {
  const location = response.headers.get("location");
  if (!location) throw new Error(`no Location (status ${response.status})`);
  const url = new URL(location);
  return new URLSearchParams(mode === "query" ? url.search : url.hash.slice(1));
}

export interface LoginPageState {
  response: Response;
  html: string;
  form: string;
  cookie: string;
}

/** GET /authorize and read the login page; fails the test if it is not one. */
export async function openLogin(params: Record<string, string | string[]>): Promise<LoginPageState> {
  const response = await getAuthorize(params);
  const html = await response.text();
  expect(response.status, html.slice(0, 500)).toBe(200);
  const cookie = cookieOf(response);
  expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { response, html, form: hiddenField(html), cookie: cookie as string };
}

export async function submitLogin(
  state: { form: string; cookie: string | null },
  username: string,
  password: string,
): Promise<Response> {
  return postPage("/authorize/login", { authz: state.form, username, password }, state.cookie);
}

/** Logs in and returns the consent page's signed field. */
export async function loginToConsent(
  params: Record<string, string | string[]>,
  user: { username: string; password: string },
): Promise<{ form: string; cookie: string; html: string }> {
  const login = await openLogin(params);
  const response = await submitLogin(login, user.username, user.password);
  const html = await response.text();
  expect(response.status, html.slice(0, 500)).toBe(200);
  expect(html).toContain('value="approve"');
  return { form: hiddenField(html), cookie: login.cookie, html };
}

export function submitConsent(
  state: { form: string; cookie: string | null },
  decision: "approve" | "deny" | string,
): Promise<Response> {
  return postPage("/authorize/consent", { authz: state.form, decision }, state.cookie);
}

/** The whole browser part of the code flow; returns the code and the callback's parameters. */
export async function authorizeCode(
  keys: Keys,
  user: { username: string; password: string },
  extra: Record<string, string> = {},
): Promise<{ code: string; params: URLSearchParams; location: string }> {
  const consent = await loginToConsent(
    { response_type: "code", client_id: keys.consumerKey, redirect_uri: CALLBACK, ...extra },
    user,
  );
  const response = await submitConsent(consent, "approve");
  expect(response.status).toBe(303);
  const params = responseParams(response);
  const code = params.get("code");
  if (!code) throw new Error(`no code: ${response.headers.get("location")}`);
  return { code, params, location: response.headers.get("location") as string };
}

/** POST /token with grant_type=authorization_code; `auth` is Basic (keys) or client_id alone. */
export async function redeem(
  keys: Keys,
  params: Record<string, string>,
  auth: "basic" | "public" | "post" = "basic",
): Promise<{ status: number; body: Record<string, unknown>; response: Response }> {
  const form: Record<string, string> = { grant_type: "authorization_code", ...params };
  const headers: Record<string, string> = {};
  if (auth === "basic") headers.Authorization = `Basic ${btoa(`${keys.consumerKey}:${keys.consumerSecret}`)}`;
  else form.client_id = keys.consumerKey;
  if (auth === "post") form.client_secret = keys.consumerSecret;
  const response = await postForm("/token", form, headers);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, response };
}

/** RFC 7662 introspection as the operator. */
export async function introspectAsAdmin(tokenValue: string): Promise<Record<string, unknown>> {
  const response = await postForm(
    "/introspect",
    { token: tokenValue },
    { Authorization: `Bearer ${ADMIN_TOKEN}` },
  );
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}
