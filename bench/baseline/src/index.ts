import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

/**
 * The bench's baselines (bench/run.mjs): each route is the least a key manager's hot path could do.
 *
 * - `GET /json`: a bare Hono route returning JSON (the floor of any request on this runtime).
 * - `GET /hash-kv`: reads `Authorization: Bearer`, SHA-256-hashes the token, one KV get (a gateway cache hit
 *   at its cheapest).
 * - `GET /hash-kv-fetch`: the same, then forwards to the local backend (a gateway call with nothing else).
 * - `POST /do-write`: parses a form and does one SQLite Durable Object write (an issuance at its cheapest).
 * - `POST /pbkdf2-do-write`: the same with the form's password checked by PBKDF2-SHA-256 at the key manager's
 *   100,000 iterations first (a password grant at its cheapest: PBKDF2 sets the floor).
 * - `POST /kv-put`, `POST /kv-delete`: one KV write each (revocation's cache purge is made of these).
 */
interface Env {
  CACHE: KVNamespace;
  STORE: DurableObjectNamespace<BaselineStore>;
  BACKEND: string;
}

export class BaselineStore extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (k TEXT PRIMARY KEY, v TEXT NOT NULL, at INTEGER)");
  }

  async write(key: string, value: string): Promise<number> {
    this.ctx.storage.sql.exec("INSERT INTO rows (k, v, at) VALUES (?, ?, ?)", key, value, Date.now());
    return 1;
  }
}

/** As many Durable Object instances as a client has token shards by default, picked at random. */
const SHARDS = 16;

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function sha256(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

function bearer(request: Request): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  return match ? (match[1] as string) : null;
}

const app = new Hono<{ Bindings: Env }>();

app.get("/json", (c) => c.json({ ok: true }));

app.get("/hash-kv", async (c) => {
  const token = bearer(c.req.raw);
  if (!token) return c.json({ error: "invalid_token" }, 401);
  const cached = await c.env.CACHE.get<{ active: boolean }>(`token:${await sha256(token)}`, "json");
  if (!cached?.active) return c.json({ error: "invalid_token" }, 401);
  return c.json({ ok: true });
});

app.get("/hash-kv-fetch/*", async (c) => {
  const token = bearer(c.req.raw);
  if (!token) return c.json({ error: "invalid_token" }, 401);
  const cached = await c.env.CACHE.get<{ active: boolean }>(`token:${await sha256(token)}`, "json");
  if (!cached?.active) return c.json({ error: "invalid_token" }, 401);
  const url = new URL(c.req.url);
  const rest = url.pathname.slice("/hash-kv-fetch".length) || "/";
  const headers = new Headers(c.req.raw.headers);
  headers.delete("authorization");
  return fetch(`${c.env.BACKEND}${rest}${url.search}`, { method: c.req.method, headers });
});

app.post("/do-write", async (c) => {
  const form = new URLSearchParams(await c.req.text());
  const client = form.get("client_id") ?? "anonymous";
  const shard = crypto.getRandomValues(new Uint32Array(1))[0] as number;
  const stub = c.env.STORE.get(c.env.STORE.idFromName(`${client}/${shard % SHARDS}`));
  const key = crypto.randomUUID();
  await stub.write(key, form.get("grant_type") ?? "");
  return c.json({ ok: true, key });
});

/** The key manager's PBKDF2 iterations (src/crypto/password.ts), and one stored hash the form's password is held to. */
const PBKDF2_ITERATIONS = 100_000;
const SALT = new TextEncoder().encode("bench-baseline-salt");
let storedHash: Promise<string> | null = null;

async function pbkdf2(password: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: SALT, iterations: PBKDF2_ITERATIONS },
    key,
    256,
  );
  return base64url(new Uint8Array(bits));
}

app.post("/pbkdf2-do-write", async (c) => {
  const form = new URLSearchParams(await c.req.text());
  const password = form.get("password") ?? "";
  storedHash ??= pbkdf2(password);
  if ((await pbkdf2(password)) !== (await storedHash)) return c.json({ error: "invalid_grant" }, 400);
  const shard = crypto.getRandomValues(new Uint32Array(1))[0] as number;
  const stub = c.env.STORE.get(c.env.STORE.idFromName(`users/${shard % SHARDS}`));
  const key = crypto.randomUUID();
  await stub.write(key, form.get("username") ?? "");
  return c.json({ ok: true, key });
});

app.post("/kv-put", async (c) => {
  await c.env.CACHE.put(`revoked:${crypto.randomUUID()}`, JSON.stringify({ revokedAt: Date.now() }), {
    expirationTtl: 960,
  });
  return c.json({ ok: true });
});

app.post("/kv-delete", async (c) => {
  await c.env.CACHE.delete(`token:${crypto.randomUUID()}`);
  return c.json({ ok: true });
});

/** Set-up only: caches a validation entry for a bearer token, as the gateway would on a miss. */
app.post("/seed", async (c) => {
  const token = bearer(c.req.raw);
  if (!token) return c.json({ error: "invalid_token" }, 401);
  await c.env.CACHE.put(`token:${await sha256(token)}`, JSON.stringify({ active: true, seeded: Date.now() }));
  return c.json({ ok: true });
});

export default app;
