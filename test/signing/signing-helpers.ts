import { env, runInDurableObject } from "cloudflare:test";
import { createLocalJWKSet, type JSONWebKeySet } from "jose";
import { signingKeysStub } from "../../src/durable/names";
import type { KeyRow } from "../../src/durable/signing/schema";
import { call } from "../helpers";

export const signingKeys = () => signingKeysStub(env);

/** The JWKS as a client fetches it. */
export async function fetchJwks(): Promise<{ response: Response; jwks: JSONWebKeySet }> {
  const response = await call("/.well-known/jwks.json");
  if (response.status !== 200) throw new Error(`jwks: ${response.status} ${await response.text()}`);
  return { response, jwks: (await response.json()) as JSONWebKeySet };
}

/** A jose key resolver over the JWKS served right now. */
export async function servedKeySet() {
  return createLocalJWKSet((await fetchJwks()).jwks);
}

export async function keyRows(): Promise<KeyRow[]> {
  return runInDurableObject(signingKeys(), (_instance, state) =>
    state.storage.sql.exec("SELECT * FROM signing_keys").toArray(),
  ) as Promise<unknown> as Promise<KeyRow[]>;
}

/** Every text value in a Durable Object's SQLite storage (all tables) and its key-value storage. */
export async function storageText(stub: DurableObjectStub): Promise<string> {
  return runInDurableObject(stub, (_instance, state) => {
    const parts: string[] = [];
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
      .toArray();
    for (const { name } of tables) {
      for (const row of state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray()) {
        parts.push(JSON.stringify(row));
      }
    }
    for (const [key, value] of state.storage.kv.list()) parts.push(key, JSON.stringify(value));
    return parts.join("\n");
  });
}

/** Every key and value in the KV namespace. */
export async function kvText(): Promise<string> {
  const parts: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.VALIDATION_CACHE.list(cursor ? { cursor } : {});
    for (const key of page.keys) parts.push(key.name, (await env.VALIDATION_CACHE.get(key.name)) ?? "");
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return parts.join("\n");
}
