import { conflict, found, notFound, type RegistryResult } from "./result";
import type { SqlRow } from "./schema";

/**
 * Issuers whose JWTs the jwt-bearer grant accepts (RFC 7523 §3: "the JWT MUST contain an iss claim" the
 * authorization server trusts), each with its keys: a `jwksUri` the grant fetches, or an inline `jwks`
 * (public keys only); and the assertions already used, so that a `jti` is accepted once.
 */
export interface TrustedIssuerInput {
  issuer: string;
  jwksUri: string | null;
  jwks: { keys: JsonWebKey[] } | null;
  /** The `aud` an assertion must carry; null: the token endpoint URL or the issuer (origin) of this service. */
  audience: string | null;
}

export interface TrustedIssuerView extends TrustedIssuerInput {
  id: string;
  createdAt: string;
}

interface TrustedIssuerRow {
  id: string;
  issuer: string;
  jwks_uri: string | null;
  jwks: string | null;
  audience: string | null;
  created_at: number;
}

export type AssertionUse = "accepted" | "replayed";

function view(row: TrustedIssuerRow): TrustedIssuerView {
  return {
    id: row.id,
    issuer: row.issuer,
    jwksUri: row.jwks_uri,
    jwks: row.jwks ? (JSON.parse(row.jwks) as TrustedIssuerView["jwks"]) : null,
    audience: row.audience,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export class TrustedIssuerStore {
  constructor(private readonly sql: SqlStorage) {}

  private row(where: "id" | "issuer", value: string): TrustedIssuerRow | null {
    const rows = this.sql
      .exec<SqlRow>(`SELECT * FROM trusted_issuers WHERE ${where} = ?`, value)
      .toArray() as unknown as TrustedIssuerRow[];
    return rows[0] ?? null;
  }

  create(input: TrustedIssuerInput): RegistryResult<TrustedIssuerView> {
    if (this.row("issuer", input.issuer)) return conflict(`issuer ${input.issuer} is already trusted`);
    const id = crypto.randomUUID();
    this.sql.exec(
      "INSERT INTO trusted_issuers (id, issuer, jwks_uri, jwks, audience, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      input.issuer,
      input.jwksUri,
      input.jwks ? JSON.stringify(input.jwks) : null,
      input.audience,
      Date.now(),
    );
    return found(view(this.row("id", id) as TrustedIssuerRow));
  }

  get(id: string): RegistryResult<TrustedIssuerView> {
    const row = this.row("id", id);
    return row ? found(view(row)) : notFound(`no trusted issuer ${id}`);
  }

  byIssuer(issuer: string): TrustedIssuerView | null {
    const row = this.row("issuer", issuer);
    return row ? view(row) : null;
  }

  list(): TrustedIssuerView[] {
    return (
      this.sql
        .exec<SqlRow>("SELECT * FROM trusted_issuers ORDER BY created_at")
        .toArray() as unknown as TrustedIssuerRow[]
    ).map(view);
  }

  delete(id: string): RegistryResult<{ id: string }> {
    const deleted = this.sql.exec("DELETE FROM trusted_issuers WHERE id = ?", id).rowsWritten;
    if (deleted === 0) return notFound(`no trusted issuer ${id}`);
    this.sql.exec("DELETE FROM used_assertions WHERE issuer_id = ?", id);
    return found({ id });
  }

  /**
   * Records the use of an assertion (by the hash of its `jti`) until it expires; "replayed" if it was used
   * before. Expired records are dropped first, so the table holds at most the assertions of one maximum
   * assertion lifetime (the grant refuses longer ones).
   */
  useAssertion(issuerId: string, jtiHash: string, expiresAt: number, now: number): AssertionUse {
    this.sql.exec("DELETE FROM used_assertions WHERE expires_at <= ?", now);
    const written = this.sql.exec(
      "INSERT OR IGNORE INTO used_assertions (issuer_id, jti_hash, expires_at) VALUES (?, ?, ?)",
      issuerId,
      jtiHash,
      expiresAt,
    ).rowsWritten;
    return written > 0 ? "accepted" : "replayed";
  }
}
