/**
 * The SQLite schema of one client token shard. Every SQL statement of the shard lives in this module, so the
 * storage layout is spelled in one place.
 *
 * A row per token, authorization code or spent refresh token, looked up by the SHA-256 of its value; no
 * value is stored in plaintext. `sibling_sealed` holds the other token of the pair encrypted under a key
 * derived from this token (revocation headers); `successor_sealed` holds the pair a spent refresh token was
 * rotated into, encrypted under a key derived from the spent token (retry-safe rotation). `code_binding` holds
 * what an authorization code is bound to (src/durable/shard/codes.ts); `public_client` marks a grant redeemed
 * by a client without a secret (src/durable/shard/minting.ts). The tables are created and changed by the
 * numbered migrations in src/durable/shard/migrations.ts.
 */
export type TokenKind = "access" | "refresh" | "code";
export type TokenState = "active" | "spent" | "revoked";

export interface TokenRow {
  hash: string;
  kind: TokenKind;
  state: TokenState;
  family: string;
  grant_type: string;
  user: string | null;
  scope: string;
  granted_scope: string;
  key_type: string;
  issued_at: number;
  expires_at: number | null;
  sibling_hash: string | null;
  sibling_sealed: string | null;
  spent_at: number | null;
  successor_hash: string | null;
  successor_sealed: string | null;
  revoked_at: number | null;
  purge_after: number | null;
  code_binding: string | null;
  /** 1 for a grant redeemed by a public client (PKCE, no secret), else 0. */
  public_client: 0 | 1;
  /** The user's credential epoch this row was minted under (src/durable/user-epoch.ts); null: none recorded. */
  user_epoch: number | null;
}

const COLUMNS = [
  "hash",
  "kind",
  "state",
  "family",
  "grant_type",
  "user",
  "scope",
  "granted_scope",
  "key_type",
  "issued_at",
  "expires_at",
  "sibling_hash",
  "sibling_sealed",
  "spent_at",
  "successor_hash",
  "successor_sealed",
  "revoked_at",
  "purge_after",
  "code_binding",
  "public_client",
  "user_epoch",
] as const;

/** What minting a refresh token's successor needs of its row: the grant it continues, nothing sealed. */
const GRANT_COLUMNS = [
  "family",
  "grant_type",
  "user",
  "granted_scope",
  "public_client",
  "user_epoch",
  "expires_at",
] as const satisfies ReadonlyArray<keyof TokenRow>;
type GrantColumns = Pick<TokenRow, (typeof GRANT_COLUMNS)[number]>;

/** What rotation's pre-check reads of a presented refresh token: its kind and state, and its grant. */
export type PresentedRefresh = GrantColumns & Pick<TokenRow, "kind" | "state">;
const PRESENTED_COLUMNS = ["kind", "state", ...GRANT_COLUMNS] as const;

/** What spending a refresh token returns: its grant, and the sibling it superseded. */
export type SpentRefresh = GrantColumns & Pick<TokenRow, "sibling_hash">;
const SPENT_COLUMNS = [...GRANT_COLUMNS, "sibling_hash"] as const;

/** How long a revoked row is kept (so that a repeated revocation is recognised) before it is purged. */
export const REVOKED_RETENTION_MS = 24 * 3600_000;
/** How long a spent refresh token that never expires is remembered for reuse detection. */
export const SPENT_RETENTION_MS = 30 * 24 * 3600_000;
/** How many families one trim statement names (src/durable/shard/cleanup.ts trims those that rotated). */
const TRIM_BATCH = 1000;
/** Spent refresh tokens remembered per family for reuse detection (the newest ones). */
export const SPENT_PER_FAMILY = 8;

export type SqlRow = Record<string, SqlStorageValue>;

export class TokenTable {
  /** Families that spent a refresh token since the last {@link trimSpent}; null until the first (all of them). */
  private spentSinceTrim: Set<string> | null = null;

  constructor(private readonly sql: SqlStorage) {}

  find(hash: string): TokenRow | null {
    const rows = this.sql.exec<SqlRow>("SELECT * FROM tokens WHERE hash = ?", hash).toArray();
    return (rows[0] as unknown as TokenRow | undefined) ?? null;
  }

  /** {@link find}, narrowed to what rotation's pre-check needs ({@link PresentedRefresh}). */
  findPresented(hash: string): PresentedRefresh | null {
    const rows = this.sql
      .exec<SqlRow>(`SELECT ${PRESENTED_COLUMNS.join(", ")} FROM tokens WHERE hash = ?`, hash)
      .toArray();
    return (rows[0] as unknown as PresentedRefresh | undefined) ?? null;
  }

  /**
   * Inserts rows in one statement (a rotation's pair: one statement, not two). Columns that are null in every
   * row are left out (they default to NULL), so a new pair does not bind the five columns only later states use.
   */
  insert(...rows: TokenRow[]): void {
    if (rows.length === 0) return;
    const columns = COLUMNS.filter((column) => rows.some((row) => row[column] !== null));
    const tuple = `(${columns.map(() => "?").join(", ")})`;
    this.sql.exec(
      `INSERT INTO tokens (${columns.join(", ")}) VALUES ${rows.map(() => tuple).join(", ")}`,
      ...rows.flatMap((row) => columns.map((column) => row[column])),
    );
  }

  /**
   * Rotation's read and spend in one statement (UPDATE … RETURNING): marks an active, unexpired refresh token
   * spent, with its successor, to be forgotten at its own expiry (or after SPENT_RETENTION_MS for one that never
   * expires). Returns what the rotation goes on with ({@link SpentRefresh}); null when the token was not
   * spendable (not a refresh token, already spent, revoked, expired or gone: the caller then reads it to say why).
   */
  spendRefresh(
    hash: string,
    now: number,
    successorHash: string,
    successorSealed: string | null,
  ): SpentRefresh | null {
    const rows = this.sql
      .exec<SqlRow>(
        `UPDATE tokens SET state = 'spent', spent_at = ?, successor_hash = ?, successor_sealed = ?,
           sibling_sealed = NULL, purge_after = COALESCE(expires_at, ?)
         WHERE hash = ? AND kind = 'refresh' AND state = 'active' AND (expires_at IS NULL OR expires_at > ?)
         RETURNING ${SPENT_COLUMNS.join(", ")}`,
        now,
        successorHash,
        successorSealed,
        now + SPENT_RETENTION_MS,
        hash,
        now,
      )
      .toArray();
    const spent = (rows[0] as unknown as SpentRefresh | undefined) ?? null;
    // A spend rolled back later leaves its family here: trimming a family that needs none deletes nothing.
    if (spent) this.spentSinceTrim?.add(spent.family);
    return spent;
  }

  markSpent(
    hash: string,
    spentAt: number,
    successorHash: string,
    successorSealed: string | null,
    purgeAfter: number,
  ): void {
    this.sql.exec(
      `UPDATE tokens SET state = 'spent', spent_at = ?, successor_hash = ?, successor_sealed = ?,
         sibling_sealed = NULL, purge_after = ? WHERE hash = ?`,
      spentAt,
      successorHash,
      successorSealed,
      purgeAfter,
      hash,
    );
  }

  /**
   * Records gateway-cache purges as pending (src/durable/shard/purge-outbox.ts), in the caller's transaction:
   * every method below that ends an access token the gateway has validated calls it, so the purge is as durable
   * as the revocation itself. Returns the hashes.
   */
  private enqueuePurge(hashes: string[]): string[] {
    const now = Date.now();
    for (const hash of hashes) {
      this.sql.exec(
        "INSERT INTO pending_purges (hash, since) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
        hash,
        now,
      );
    }
    return hashes;
  }

  /**
   * A repeated revocation of a grant already revoked: its access tokens the gateway has validated, queued for
   * purging again (a marker the first attempt failed to write is written now; README "Revoke API").
   */
  republishFamily(family: string): string[] {
    const seen = this.sql
      .exec<{ hash: string }>(
        "SELECT hash FROM tokens WHERE family = ? AND kind = 'access' AND state = 'revoked' AND gateway_seen = 1",
        family,
      )
      .toArray()
      .map((r) => r.hash);
    return this.enqueuePurge(seen);
  }

  /** Revokes the given rows; returns the hashes of access tokens that were active (to purge from caches). */
  revoke(where: "hash" | "family" | "user", value: string, now: number): string[] {
    const active = this.sql
      .exec<{ hash: string }>(
        `SELECT hash FROM tokens WHERE ${where} = ? AND kind = 'access' AND state = 'active' AND gateway_seen = 1`,
        value,
      )
      .toArray()
      .map((r) => r.hash);
    this.enqueuePurge(active);
    this.sql.exec(
      `UPDATE tokens SET state = 'revoked', revoked_at = ?, sibling_sealed = NULL, successor_sealed = NULL,
         purge_after = MIN(COALESCE(expires_at, ?), ?)
       WHERE ${where} = ? AND state != 'revoked'`,
      now,
      now + REVOKED_RETENTION_MS,
      now + REVOKED_RETENTION_MS,
      value,
    );
    return active;
  }

  /**
   * After a rotation: deletes the access token the spent refresh token was issued with (an unknown token answers
   * exactly as a revoked one, so keeping it would only grow the family per rotation). Returns its hash if it was
   * active and the gateway had seen it (to purge). A family's surplus spent refresh tokens are left to
   * {@link trimSpent}, in the clean-up alarm: each deletion touches pages of every index, and one batch shares them.
   */
  deleteSuperseded(accessHash: string | null): string[] {
    if (accessHash === null) return [];
    const removed = this.sql
      .exec<{ state: string; gateway_seen: number }>(
        "DELETE FROM tokens WHERE hash = ? AND kind = 'access' RETURNING state, gateway_seen",
        accessHash,
      )
      .toArray();
    const seen = removed.some((row) => row.state === "active" && row.gateway_seen === 1);
    return seen ? this.enqueuePurge([accessHash]) : [];
  }

  /**
   * Deletes all but the newest `keepSpent` spent refresh tokens of each family that spent one since the last
   * trim (kept for reuse detection; a used code is kept), so a trim costs what the rotations since the last one
   * left, not the whole table. The first trim after the object starts (memory lost) looks at every family.
   * Returns how many rows went.
   */
  trimSpent(keepSpent: number): number {
    const families = this.spentSinceTrim;
    let deleted = 0;
    if (families === null) {
      deleted = this.trimFamilies(null, keepSpent);
    } else {
      // In batches: one statement's arguments stay far below the storage's 2 MB limit on a value.
      const all = [...families];
      for (let i = 0; i < all.length; i += TRIM_BATCH) {
        deleted += this.trimFamilies(all.slice(i, i + TRIM_BATCH), keepSpent);
      }
    }
    this.spentSinceTrim = new Set();
    return deleted;
  }

  /** {@link trimSpent} for the given families (null: all of them). */
  private trimFamilies(families: string[] | null, keepSpent: number): number {
    const onlyThose = families ? "family IN (SELECT value FROM json_each(?)) AND" : "";
    return this.sql.exec(
      `DELETE FROM tokens WHERE rowid IN (
         SELECT rowid FROM (
           SELECT rowid, ROW_NUMBER() OVER (PARTITION BY family ORDER BY spent_at DESC, rowid DESC) AS newer
           FROM tokens WHERE ${onlyThose} state = 'spent' AND kind = 'refresh')
         WHERE newer > ?)`,
      ...(families ? [JSON.stringify(families)] : []),
      keepSpent,
    ).rowsWritten;
  }

  /** Revokes every live token of the shard, or those of one grant type; returns active access-token hashes. */
  revokeAll(now: number, grantType?: string): string[] {
    const filter = grantType ? "AND grant_type = ?" : "";
    const args = grantType ? [grantType] : [];
    const active = this.sql
      .exec<{ hash: string }>(
        `SELECT hash FROM tokens WHERE kind = 'access' AND state = 'active' AND gateway_seen = 1 ${filter}`,
        ...args,
      )
      .toArray()
      .map((r) => r.hash);
    this.enqueuePurge(active);
    this.sql.exec(
      `UPDATE tokens SET state = 'revoked', revoked_at = ?, sibling_sealed = NULL, successor_sealed = NULL,
         purge_after = MIN(COALESCE(expires_at, ?), ?)
       WHERE state != 'revoked' ${filter}`,
      now,
      now + REVOKED_RETENTION_MS,
      now + REVOKED_RETENTION_MS,
      ...args,
    );
    return active;
  }

  /**
   * Notes that the gateway has been told this access token is active (and may cache that). Only such tokens
   * need a gateway cache purge when they end: a token the gateway never validated cannot be in its cache,
   * because the gateway caches only what this shard answers, and this flag is set in the same step.
   */
  markGatewaySeen(hash: string): void {
    this.sql.exec("UPDATE tokens SET gateway_seen = 1 WHERE hash = ? AND gateway_seen = 0", hash);
  }

  /** Deletes rows no longer needed; returns how many. */
  purge(now: number): number {
    return this.sql.exec("DELETE FROM tokens WHERE purge_after IS NOT NULL AND purge_after <= ?", now)
      .rowsWritten;
  }

  nextPurge(): number | null {
    const row = this.sql
      .exec<{ next: number | null }>(
        "SELECT MIN(purge_after) AS next FROM tokens WHERE purge_after IS NOT NULL",
      )
      .one();
    return row.next ?? null;
  }
}
