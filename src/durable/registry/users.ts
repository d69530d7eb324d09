import { canonicalUserName } from "../../core/identity";
import type { PasswordHash } from "../../crypto/password";
import { type FailureState, lockedFor, recordFailure } from "../lockout";
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
  /** Seconds the account stays locked after failed log-ins; 0 when it is not locked. */
  lockedFor: number;
  /** Failed log-ins are on record: a success must clear them (recordLogin). */
  hasFailures: boolean;
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

  create(user: NewUser): RegistryResult<UserView> {
    if (this.row(user.username)) return conflict(`user ${user.username} already exists`);
    this.sql.exec(
      "INSERT INTO users (username, name, tenant, user_store_domain, password, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      user.username,
      user.name,
      user.tenant,
      user.userStoreDomain,
      JSON.stringify(user.password),
      Date.now(),
    );
    return found(view(this.row(user.username) as UserRow));
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

  setPassword(username: string, password: PasswordHash): RegistryResult<UserView> {
    const row = this.row(username);
    if (!row) return notFound(`no user ${username}`);
    this.sql.exec(
      "UPDATE users SET password = ?, failures = 0, window_start = 0, locked_until = 0 WHERE username = ?",
      JSON.stringify(password),
      username,
    );
    return found(view(row));
  }

  delete(username: string): RegistryResult<{ username: string }> {
    const deleted = this.sql.exec("DELETE FROM users WHERE username = ?", username).rowsWritten;
    return deleted > 0 ? found({ username }) : notFound(`no user ${username}`);
  }

  /** The stored hash for a log-in attempt, by any accepted spelling of the name; null if there is no such user. */
  credential(input: string): UserCredential | null {
    const username = canonicalUserName(input);
    const row = username ? this.row(username) : null;
    if (!row) return null;
    return {
      username: row.username,
      password: JSON.parse(row.password) as PasswordHash,
      lockedFor: lockedFor(this.failureState(row), Date.now()),
      hasFailures: row.failures !== 0 || row.locked_until !== 0,
    };
  }

  recordLogin(username: string, ok: boolean): void {
    const row = this.row(username);
    if (!row) return;
    // The common case, a success with nothing to clear, writes nothing.
    if (ok && row.failures === 0 && row.locked_until === 0) return;
    const next = ok
      ? { failures: 0, windowStart: 0, lockedUntil: 0 }
      : recordFailure(this.failureState(row), Date.now());
    this.sql.exec(
      "UPDATE users SET failures = ?, window_start = ?, locked_until = ? WHERE username = ?",
      next.failures,
      next.windowStart,
      next.lockedUntil,
      username,
    );
  }

  private failureState(row: UserRow): FailureState {
    return { failures: row.failures, windowStart: row.window_start, lockedUntil: row.locked_until };
  }
}
