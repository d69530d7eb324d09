import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { migrate, schemaVersion } from "../../src/durable/migrations";
import { registryStub, shardStub } from "../../src/durable/names";
import { REGISTRY_MIGRATIONS } from "../../src/durable/registry/schema";
import { SHARD_MIGRATIONS } from "../../src/durable/shard/migrations";
import { unique } from "../helpers";

/** The tokens table as the first release created it: no gateway_seen, `extra` for two things. */
const FIRST_RELEASE = `
  DROP TABLE IF EXISTS tokens;
  DROP TABLE IF EXISTS client;
  DROP TABLE IF EXISTS schema_version;
  CREATE TABLE tokens (
    hash TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, family TEXT NOT NULL,
    grant_type TEXT NOT NULL, user TEXT, scope TEXT NOT NULL, granted_scope TEXT NOT NULL,
    key_type TEXT NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER, sibling_hash TEXT,
    sibling_sealed TEXT, spent_at INTEGER, successor_hash TEXT, successor_sealed TEXT, revoked_at INTEGER,
    purge_after INTEGER, extra TEXT
  );
  CREATE INDEX tokens_family ON tokens (family);
`;

const ROW =
  "INSERT INTO tokens (hash, kind, state, family, grant_type, scope, granted_scope, key_type, issued_at, extra)";

describe("numbered schema migrations", () => {
  it("brings a shard database from before numbered migrations up to date, once", async () => {
    const stub = shardStub(env, { consumerKey: unique("migrated"), shard: 0 });
    const result = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec(FIRST_RELEASE);
      sql.exec(
        `${ROW} VALUES ('c', 'code', 'active', 'f1', 'authorization_code', 's', 's', 'PRODUCTION', 1, ?)`,
        '{"redirectUri":"https://app.example/cb","redirectUriSent":true,"codeChallenge":null}',
      );
      sql.exec(
        `${ROW} VALUES ('r', 'refresh', 'active', 'f1', 'authorization_code', 's', 's', 'PRODUCTION', 1, ?)`,
        '{"publicClient":true}',
      );
      sql.exec(`${ROW} VALUES ('a', 'access', 'active', 'f2', 'password', 's', 's', 'PRODUCTION', 1, NULL)`);
      const from = migrate(state.storage, SHARD_MIGRATIONS);
      const again = migrate(state.storage, SHARD_MIGRATIONS);
      const columns = sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('tokens')")
        .toArray()
        .map((column) => column.name);
      const indexes = sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tokens'")
        .toArray()
        .map((index) => index.name);
      const rows = sql
        .exec("SELECT hash, code_binding, public_client, gateway_seen FROM tokens ORDER BY hash")
        .toArray();
      return { from, again, version: schemaVersion(sql), columns, indexes, rows };
    });
    expect(result.from).toBe(0);
    expect(result.again).toBe(SHARD_MIGRATIONS.length);
    expect(result.version).toBe(SHARD_MIGRATIONS.length);
    expect(result.columns).not.toContain("extra");
    expect(result.columns).toEqual(expect.arrayContaining(["gateway_seen", "code_binding", "public_client"]));
    expect(result.indexes).not.toContain("tokens_family");
    expect(result.indexes).toContain("tokens_family_state");
    expect(result.rows).toEqual([
      { hash: "a", code_binding: null, public_client: 0, gateway_seen: 0 },
      {
        hash: "c",
        code_binding: '{"redirectUri":"https://app.example/cb","redirectUriSent":true,"codeChallenge":null}',
        public_client: 0,
        gateway_seen: 0,
      },
      { hash: "r", code_binding: null, public_client: 1, gateway_seen: 0 },
    ]);
  });

  it("runs each migration once, in order, and not again", async () => {
    const stub = shardStub(env, { consumerKey: unique("counted"), shard: 0 });
    const runs = await runInDurableObject(stub, (_instance, state) => {
      const seen: number[] = [];
      const steps = [1, 2, 3].map((n) => () => {
        seen.push(n);
      });
      state.storage.sql.exec("DELETE FROM schema_version");
      migrate(state.storage, steps.slice(0, 2));
      migrate(state.storage, steps);
      migrate(state.storage, steps);
      return seen;
    });
    expect(runs).toEqual([1, 2, 3]);
  });

  it("leaves a migration that fails unrecorded, so it runs again", async () => {
    const stub = shardStub(env, { consumerKey: unique("failing"), shard: 0 });
    const outcome = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const version = schemaVersion(sql);
      const failing = (s: SqlStorage) => {
        s.exec("CREATE TABLE half_done (x)");
        throw new Error("boom");
      };
      let threw = false;
      try {
        migrate(state.storage, [...SHARD_MIGRATIONS, failing]);
      } catch {
        threw = true;
      }
      const tables = sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name = 'half_done'")
        .toArray();
      return { threw, before: version, after: schemaVersion(sql), tables: tables.length };
    });
    expect(outcome).toEqual({
      threw: true,
      before: SHARD_MIGRATIONS.length,
      after: SHARD_MIGRATIONS.length,
      tables: 0,
    });
  });

  it("the registry is at its latest version", async () => {
    const version = await runInDurableObject(registryStub(env), (_instance, state) =>
      schemaVersion(state.storage.sql),
    );
    expect(version).toBe(REGISTRY_MIGRATIONS.length);
  });
});
