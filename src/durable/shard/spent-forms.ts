import type { SqlRow } from "./schema";

/**
 * Consent forms already answered with a code or an implicit token (README "Browser flows": a consent form works
 * once). A form carries a random nonce; its SHA-256 is recorded here in the same transaction that writes the
 * code or token, so two submissions of one form can never both issue. Rows are kept until the form expires.
 */
export class SpentForms {
  constructor(private readonly sql: SqlStorage) {}

  /** Records the form as used; false when it was used before. Call inside the issuing transaction. */
  spend(hash: string, expiresAt: number): boolean {
    return (
      this.sql.exec(
        "INSERT INTO spent_forms (hash, expires_at) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
        hash,
        expiresAt,
      ).rowsWritten > 0
    );
  }

  purge(now: number): number {
    return this.sql.exec("DELETE FROM spent_forms WHERE expires_at <= ?", now).rowsWritten;
  }

  nextPurge(): number | null {
    const row = this.sql.exec<SqlRow>("SELECT MIN(expires_at) AS next FROM spent_forms").one();
    return (row.next as number | null) ?? null;
  }
}
