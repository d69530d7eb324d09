import { canonicalUserName } from "../../core/identity";
import type { PasswordHash } from "../../crypto/password";
import type { UserEpoch } from "../user-epoch";
import { conflict, found, notFound, type RegistryResult } from "./result";
import type { SqlRow } from "./schema";

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
  failures: number;
  window_start: number;
  locked_until: number;
  epoch: number;
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

/** The user store: names are canonical (`alice@carbon.super`, `FOO/bob@carbon.super`); passwords PBKDF2. */
export class UserStore {
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

  list(): UserView[] {
    return (
      this.sql.exec<SqlRow>("SELECT * FROM users ORDER BY username").toArray() as unknown as UserRow[]
    ).map(view);
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

/** The name a log-in attempt is throttled under: the canonical user name, or the text as typed (bounded). */
export function loginPrincipal(input: string): string {
  return canonicalUserName(input) ?? input.trim().toLowerCase().slice(0, 256);
}
