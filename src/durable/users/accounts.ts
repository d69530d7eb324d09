import { canonicalUserName } from "../../core/identity";
import type { PasswordHash } from "../../crypto/password";
import { conflict, found, notFound, type RegistryResult } from "../registry/result";
import type { SqlRow } from "../registry/schema";
import type { UserEpoch } from "../user-epoch";

export interface UserView {
  username: string;
  name: string;
  tenant: string;
  userStoreDomain: string;
  createdAt: string;
}

export interface NewUser {
  username: string;
  name: string;
  tenant: string;
  userStoreDomain: string;
  password: PasswordHash;
}

export interface UserCredential {
  username: string;
  password: PasswordHash;
  /** The credential epoch this check is valid for (src/durable/user-epoch.ts). */
  epoch: number;
}

interface UserRow {
  username: string;
  name: string;
  tenant: string;
  user_store_domain: string;
  password: string;
  created_at: number;
  epoch: number;
}

/** A user as it moves from one store to another (the registry's old table to a user store): every column. */
export interface StoredUser {
  username: string;
  name: string;
  tenant: string;
  userStoreDomain: string;
  /** The PBKDF2 hash as stored (JSON). */
  password: string;
  createdAt: number;
  epoch: number;
}

/** One page of the user list: names after `after` (null: from the start), in order, at most `limit`. */
export interface UserPage {
  after: string | null;
  limit: number;
}

function view(row: UserRow): UserView {
  return {
    username: row.username,
    name: row.name,
    tenant: row.tenant,
    userStoreDomain: row.user_store_domain,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/**
 * The users of one user store (src/durable/user-store.ts): names are canonical (`alice@carbon.super`,
 * `FOO/bob@carbon.super`); passwords PBKDF2.
 */
export class UserAccounts {
  constructor(private readonly sql: SqlStorage) {}

  private row(username: string): UserRow | null {
    const rows = this.sql.exec<SqlRow>("SELECT * FROM users WHERE username = ?", username).toArray();
    return (rows[0] as unknown as UserRow | undefined) ?? null;
  }

  /** The next credential epoch; every creation, password change and deletion takes one. */
  private nextEpoch(): number {
    return this.sql
      .exec<{ value: number }>("UPDATE user_epoch_counter SET value = value + 1 WHERE id = 1 RETURNING value")
      .one().value;
  }

  create(user: NewUser): RegistryResult<UserView> {
    if (this.row(user.username)) return conflict(`user ${user.username} already exists`);
    this.sql.exec(
      "INSERT INTO users (username, name, tenant, user_store_domain, password, created_at, epoch) VALUES (?, ?, ?, ?, ?, ?, ?)",
      user.username,
      user.name,
      user.tenant,
      user.userStoreDomain,
      JSON.stringify(user.password),
      Date.now(),
      this.nextEpoch(),
    );
    return found(view(this.row(user.username) as UserRow));
  }

  /**
   * The user's current epoch, or a tombstone (the counter's current value, which every credential the user
   * ever had is older than) when there is no such user. Asked by a token shard that has no view of the user yet.
   */
  epoch(username: string): UserEpoch {
    const row = this.row(username);
    if (row) return { epoch: row.epoch, live: true };
    const counter = this.sql.exec<{ value: number }>("SELECT value FROM user_epoch_counter").one().value;
    return { epoch: counter, live: false };
  }

  get(username: string): RegistryResult<UserView> {
    const row = this.row(username);
    return row ? found(view(row)) : notFound(`no user ${username}`);
  }

  list(page: UserPage): UserView[] {
    return (
      this.sql
        .exec<SqlRow>(
          "SELECT * FROM users WHERE username > ? ORDER BY username LIMIT ?",
          page.after ?? "",
          page.limit,
        )
        .toArray() as unknown as UserRow[]
    ).map(view);
  }

  /**
   * Takes over users kept elsewhere before (idempotent: a user already here is left as it is), and raises the
   * epoch counter to at least `counter`, so that every epoch taken here from now on is newer than any the users
   * had or any tombstone a token shard may hold for them.
   */
  adopt(users: readonly StoredUser[], counter: number): void {
    for (const user of users) {
      this.sql.exec(
        `INSERT OR IGNORE INTO users (username, name, tenant, user_store_domain, password, created_at, epoch)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        user.username,
        user.name,
        user.tenant,
        user.userStoreDomain,
        user.password,
        user.createdAt,
        user.epoch,
      );
    }
    this.sql.exec("UPDATE user_epoch_counter SET value = MAX(value, ?) WHERE id = 1", counter);
  }

  /** A new password, in a new epoch: credentials checked before it mint nothing any more. */
  setPassword(
    username: string,
    password: PasswordHash,
  ): RegistryResult<{ user: UserView; epoch: UserEpoch }> {
    const row = this.row(username);
    if (!row) return notFound(`no user ${username}`);
    const epoch = this.nextEpoch();
    this.sql.exec(
      "UPDATE users SET password = ?, epoch = ? WHERE username = ?",
      JSON.stringify(password),
      epoch,
      username,
    );
    return found({ user: view(row), epoch: { epoch, live: true } });
  }

  /** Deletes the user; the tombstone epoch it returns ends every credential the user had. */
  delete(username: string): RegistryResult<{ username: string; epoch: UserEpoch }> {
    if (!this.row(username)) return notFound(`no user ${username}`);
    const epoch = this.nextEpoch();
    this.sql.exec("DELETE FROM users WHERE username = ?", username);
    return found({ username, epoch: { epoch, live: false } });
  }

  /** The stored hash for a log-in attempt, by any accepted spelling of the name; null if there is no such user. */
  credential(input: string): UserCredential | null {
    const username = canonicalUserName(input);
    const row = username ? this.row(username) : null;
    if (!row) return null;
    return {
      username: row.username,
      password: JSON.parse(row.password) as PasswordHash,
      epoch: row.epoch,
    };
  }
}
