import { userShard } from "../../core/shard-routing";
import { shardName } from "../../core/token-format";
import type { StoredUser } from "../users/accounts";
import type { ApplicationStore } from "./applications";
import type { SqlRow } from "./schema";

/** A user as the registry kept it, with the token shards that may hold a view of its epoch. */
export interface HandedOverUser extends StoredUser {
  /** Object names of the token shards that were told of this user's changes (src/durable/users/token-places.ts). */
  places: string[];
}

export interface Handover {
  users: HandedOverUser[];
  /** The registry's epoch counter: every epoch and tombstone handed out so far is at most this. */
  epochCounter: number;
}

/**
 * Users as the registry kept them before they moved to the user stores (README "Users: the user store"). Each
 * user store, on its first start, takes over the users that are now its own (`handOver`), stores them, and then
 * has them deleted here (`forget`); both steps are idempotent, so a crash between them only repeats one.
 * Nothing writes to the registry's `users` table any more.
 */
export class LegacyUsers {
  constructor(
    private readonly sql: SqlStorage,
    private readonly applications: ApplicationStore,
  ) {}

  handOver(belongs: (username: string) => boolean): Handover {
    const rows = this.rows().filter((row) => belongs(row.username as string));
    const keys = this.applications.allConsumerKeys().map((consumerKey) => ({
      consumerKey,
      shards: this.applications.clientRecord(consumerKey)?.shards ?? 0,
      used: this.applications.shardsOf(consumerKey),
    }));
    const users = rows.map((row) => {
      const username = row.username as string;
      // Where the registry sent this user's changes: the user's shard of every key, if that shard was ever used.
      const places = keys
        .filter((key) => key.shards > 0 && key.used.includes(userShard(username, key.shards)))
        .map((key) => shardName({ consumerKey: key.consumerKey, shard: userShard(username, key.shards) }));
      return {
        username,
        name: row.name as string,
        tenant: row.tenant as string,
        userStoreDomain: row.user_store_domain as string,
        password: row.password as string,
        createdAt: row.created_at as number,
        epoch: (row.epoch as number | null) ?? 0,
        places,
      };
    });
    const counter = this.sql.exec<{ value: number }>("SELECT value FROM user_epoch_counter").toArray()[0];
    return { users, epochCounter: counter?.value ?? 0 };
  }

  forget(belongs: (username: string) => boolean): void {
    for (const row of this.rows()) {
      if (belongs(row.username as string)) {
        this.sql.exec("DELETE FROM users WHERE username = ?", row.username);
        this.sql.exec("DELETE FROM portal_sessions WHERE username = ?", row.username);
      }
    }
  }

  private rows(): SqlRow[] {
    return this.sql.exec<SqlRow>("SELECT * FROM users").toArray();
  }
}
