import type { Migration } from "../migrations";
import { LOGIN_THROTTLE_SCHEMA } from "./login-throttle";

/** Users: canonical name, PBKDF2 hash (JSON), credential epoch (src/durable/user-epoch.ts). */
const USERS = `
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  user_store_domain TEXT NOT NULL,
  password TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  epoch INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS user_epoch_counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO user_epoch_counter (id, value) VALUES (1, 0);
`;

/** Developer-portal sessions: the SHA-256 of the browser's random id, never the id itself. */
export const PORTAL_SESSIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS portal_sessions (
  id_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  idle_until INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS portal_sessions_user ON portal_sessions (username);
CREATE INDEX IF NOT EXISTS portal_sessions_expiry ON portal_sessions (expires_at);
`;

/** The token shards that hold a view of a user's epoch (src/durable/users/token-places.ts), by object name. */
const TOKEN_PLACES = `
CREATE TABLE IF NOT EXISTS token_places (
  username TEXT NOT NULL,
  shard_name TEXT NOT NULL,
  PRIMARY KEY (username, shard_name)
);
`;

/**
 * A user store's SQLite schema (src/durable/user-store.ts), as numbered migrations (src/durable/migrations.ts).
 * Released entries are never edited; a change is a new entry at the end.
 */
export const USER_STORE_MIGRATIONS: readonly Migration[] = [
  // 1: users and their epochs, log-in throttling, portal sessions, the token shards that know each user.
  (sql) => {
    sql.exec(USERS);
    sql.exec(LOGIN_THROTTLE_SCHEMA);
    sql.exec(PORTAL_SESSIONS_SCHEMA);
    sql.exec(TOKEN_PLACES);
  },
];
