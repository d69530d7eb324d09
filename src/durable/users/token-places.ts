/**
 * The user's applications, as far as credentials go: the token shards (`<consumerKey>/<shard>` objects) that
 * hold a view of the user's credential epoch, recorded when a shard first asks for it (src/durable/shard/
 * user-epochs.ts), in the same step that answers it. A password change or a deletion tells exactly these shards,
 * never a scan of every application: a shard not listed has no view yet, so it asks, after the change, and learns
 * the new epoch. Kept after a deletion: a user created again under the name must reach the same shards.
 */
export class TokenPlaces {
  constructor(private readonly sql: SqlStorage) {}

  add(username: string, shardName: string): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO token_places (username, shard_name) VALUES (?, ?)",
      username,
      shardName,
    );
  }

  of(username: string): string[] {
    return this.sql
      .exec<{ shard_name: string }>(
        "SELECT shard_name FROM token_places WHERE username = ? ORDER BY shard_name",
        username,
      )
      .toArray()
      .map((row) => row.shard_name);
  }
}
