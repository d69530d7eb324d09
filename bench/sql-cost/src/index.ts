import { DurableObject } from "cloudflare:workers";
import { base64url } from "../../../src/crypto/encoding";
import { migrate } from "../../../src/durable/migrations";
import { SHARD_MIGRATIONS } from "../../../src/durable/shard/migrations";
import { SPENT_PER_FAMILY, type TokenRow, TokenTable } from "../../../src/durable/shard/schema";

/**
 * One Durable Object with a token shard's schema and statements (src/durable/shard/schema.ts), driven one RPC
 * call at a time by `GET /run?work=<name>&calls=<n>` (bench/sql-cost.mjs reads the runtime's CPU around it).
 * Each call does one unit of `work`:
 *
 * - `call`: nothing (the RPC alone);
 * - `read`: one token looked up by hash;
 * - `write`: one small row into a table of its own (the bench baseline's one DO write);
 * - `rotation`: a rotation's statements in one transaction: spend a live refresh token (UPDATE … RETURNING),
 *   delete the access token it superseded, insert the successor pair;
 * - `rotation-trim`: the same, then trim the family to its newest spent tokens at once (as every rotation did
 *   before the trim moved to the clean-up alarm).
 *
 * Rotations pick one of FAMILIES families at random, as the bench's refresh scenario does.
 */
const FAMILIES = 512;
const WORK = ["call", "read", "write", "rotation", "rotation-trim"] as const;
type Work = (typeof WORK)[number];

interface Env {
  STORE: DurableObjectNamespace<SqlCostStore>;
}

const random = (bytes: number) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

export class SqlCostStore extends DurableObject<Env> {
  private readonly tokens: TokenTable;
  /** Each family's live refresh token (by hash) and the access token issued with it. */
  private readonly live = new Map<string, { refresh: string; access: string }>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, SHARD_MIGRATIONS);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (k TEXT PRIMARY KEY, v TEXT NOT NULL, at INTEGER)");
    this.tokens = new TokenTable(ctx.storage.sql);
    for (let i = 0; i < FAMILIES; i++) this.insertPair(random(16), Date.now());
  }

  async run(work: Work): Promise<void> {
    if (work === "call") return;
    const sql = this.ctx.storage.sql;
    if (work === "read") {
      this.tokens.find(random(32));
      return;
    }
    if (work === "write") {
      sql.exec("INSERT INTO rows (k, v, at) VALUES (?, ?, ?)", crypto.randomUUID(), "password", Date.now());
      return;
    }
    const families = [...this.live.keys()];
    const family = families[Math.floor(Math.random() * families.length)] as string;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      const current = this.live.get(family);
      if (!current) throw new Error("no live pair");
      const spent = this.tokens.spendRefresh(current.refresh, now, random(32), random(150));
      if (!spent) throw new Error("the live refresh token did not spend");
      this.tokens.deleteSuperseded(spent.sibling_hash);
      this.insertPair(family, now);
      if (work === "rotation-trim") this.tokens.trimSpent(SPENT_PER_FAMILY);
    });
  }

  /** A pair as minting writes it: hashes, a sealed sibling each, the columns a new pair sets. */
  private insertPair(family: string, now: number): void {
    const access = random(32);
    const refresh = random(32);
    const row = (hash: string, kind: "access" | "refresh", sibling: string, expires: number): TokenRow => ({
      hash,
      kind,
      state: "active",
      family,
      grant_type: "password",
      user: "bench-user@carbon.super",
      scope: "default",
      granted_scope: "default",
      key_type: "PRODUCTION",
      issued_at: now,
      expires_at: expires,
      sibling_hash: sibling,
      sibling_sealed: random(100),
      spent_at: null,
      successor_hash: null,
      successor_sealed: null,
      revoked_at: null,
      purge_after: expires,
      code_binding: null,
      public_client: 0,
      user_epoch: 1,
    });
    this.tokens.insert(
      row(access, "access", refresh, now + 3_600_000),
      row(refresh, "refresh", access, now + 86_400_000),
    );
    this.live.set(family, { refresh, access });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    const work = url.searchParams.get("work") as Work;
    const calls = Number(url.searchParams.get("calls") ?? 1000);
    if (!WORK.includes(work)) return new Response(`work: one of ${WORK.join(", ")}`, { status: 400 });
    // A fresh object per run: every run starts from the same FAMILIES pairs.
    const store = env.STORE.get(env.STORE.newUniqueId());
    await store.run("call");
    const started = Date.now();
    for (let i = 0; i < calls; i++) await store.run(work);
    return Response.json({ work, calls, ms: Date.now() - started });
  },
};
