import { env, runInDurableObject, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { readConfig } from "../src/core/config";
import { parseTokenRoute } from "../src/core/token-format";
import { userStoreName, userStoreRoute } from "../src/core/user-store-routing";
import { hashPassword } from "../src/crypto/password";
import { hashSecret } from "../src/crypto/secrets";
import { shardStub, userStoreOf } from "../src/durable/names";

export const ADMIN_TOKEN = "test-admin-token";
export const ORIGIN = "http://localhost:8787";

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${ORIGIN}${path}`, init);
}

export async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return call(`/admin${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function adminJson<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await admin(method, path, body);
  if (response.status >= 300)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export interface Keys {
  consumerKey: string;
  consumerSecret: string;
}

export interface TestApp {
  id: string;
  name: string;
  keys: { PRODUCTION: Keys; SANDBOX: Keys };
}

let counter = 0;
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 8)}`;
}

export async function createUser(
  username = unique("user"),
  password = "s3cret-Passw0rd",
): Promise<{ username: string; password: string; canonical: string }> {
  const created = await adminJson<{ username: string }>("POST", "/users", { username, password });
  return { username, password, canonical: created.username };
}

export async function createApp(options: Record<string, unknown> = {}): Promise<TestApp> {
  return adminJson<TestApp>("POST", "/applications", { name: unique("app"), owner: "admin", ...options });
}

export function basic(keys: Keys): string {
  return `Basic ${btoa(`${keys.consumerKey}:${keys.consumerSecret}`)}`;
}

export function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

export async function postForm(
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: form(params),
  });
}

export interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  refresh_token?: string;
  error?: string;
  error_description?: string;
}

export async function token(
  keys: Keys,
  params: Record<string, string>,
): Promise<{ status: number; body: TokenBody; response: Response }> {
  const response = await postForm("/token", params, { Authorization: basic(keys) });
  return { status: response.status, body: (await response.json()) as TokenBody, response };
}

export async function passwordToken(
  keys: Keys,
  user: { username: string; password: string },
  extra: Record<string, string> = {},
) {
  const result = await token(keys, {
    grant_type: "password",
    username: user.username,
    password: user.password,
    ...extra,
  });
  if (result.status !== 200)
    throw new Error(`password grant: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

export { env };

export async function introspect(tokenValue: string): Promise<Record<string, unknown>> {
  const response = await postForm(
    "/introspect",
    { token: tokenValue },
    { Authorization: `Bearer ${ADMIN_TOKEN}` },
  );
  if (response.status !== 200) throw new Error(`introspect: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

export async function refresh(keys: Keys, refreshToken: string, extra: Record<string, string> = {}) {
  return token(keys, { grant_type: "refresh_token", refresh_token: refreshToken, ...extra });
}

/**
 * Checks that a token response issued a live access token to `keys` for `username` (the application owner for
 * an application token): the body's shape, what introspection says about the token, and that the shard stores
 * it (by its hash only).
 */
export async function expectIssued(
  body: TokenBody,
  keys: Keys,
  expected: { username: string; keyType: "PRODUCTION" | "SANDBOX"; scope?: string; refresh: boolean },
): Promise<void> {
  expect(body).toMatchObject({ token_type: "Bearer", expires_in: expect.any(Number) });
  expect(body.access_token.startsWith(`${keys.consumerKey}.`)).toBe(true);
  if (expected.refresh) expect(body.refresh_token?.startsWith(`${keys.consumerKey}.`)).toBe(true);
  else expect(body.refresh_token).toBeUndefined();
  expect(await introspect(body.access_token)).toMatchObject({
    active: true,
    client_id: keys.consumerKey,
    username: expected.username,
    key_type: expected.keyType,
    token_type: "Bearer",
    scope: expected.scope ?? "default",
  });
  const route = parseTokenRoute(body.access_token);
  if (!route) throw new Error(`not a token: ${body.access_token}`);
  const hash = await hashSecret(body.access_token);
  const rows = await runInDurableObject(shardStub(env, route), (_i, state) =>
    state.storage.sql.exec("SELECT kind, state, key_type FROM tokens WHERE hash = ?", hash).toArray(),
  );
  expect(rows).toEqual([{ kind: "access", state: "active", key_type: expected.keyType }]);
}

/**
 * Seeds users straight into their user stores' SQLite (each where the production routing puts it): thousands of
 * users through the admin API would cost as many PBKDF2 runs of 100,000 iterations. The iteration count is
 * stored per hash, so one single-iteration hash serves all. `names` are plain names (tenant carbon.super).
 */
export async function seedUsers(names: readonly string[], password: string): Promise<void> {
  const hash = JSON.stringify(await hashPassword(password, 1));
  const byStore = new Map<string, string[]>();
  for (const name of names) {
    const store = userStoreName(userStoreRoute(name, readConfig(env).partitions));
    byStore.set(store, [...(byStore.get(store) ?? []), name]);
  }
  for (const group of byStore.values()) {
    await runInDurableObject(userStoreOf(env, group[0] as string), (_instance, state) => {
      const now = Date.now();
      state.storage.transactionSync(() => {
        for (const name of group) {
          state.storage.sql.exec(
            "INSERT INTO users (username, name, tenant, user_store_domain, password, created_at, epoch) VALUES (?, ?, ?, ?, ?, ?, 1)",
            `${name}@carbon.super`,
            name,
            "carbon.super",
            "PRIMARY",
            hash,
            now,
          );
        }
      });
    });
  }
}
