import { readConfig } from "../core/config";
import { allUserStores } from "../core/user-store-routing";
import type { PasswordHash } from "../crypto/password";
import { userStoreOf, userStoreStub } from "../durable/names";
import type { RegistryResult } from "../durable/registry/result";
import type { NewUser, UserView } from "../durable/users/accounts";

/**
 * The admin API's access to the users (README "Users: the user store"): each user lives in the one user-store
 * object its canonical name routes to; listing reads every store.
 */
export function createUser(env: Env, user: NewUser): Promise<RegistryResult<UserView>> {
  return userStoreOf(env, user.username).createUser(user);
}

export function getUser(env: Env, username: string): Promise<RegistryResult<UserView>> {
  return userStoreOf(env, username).getUser(username);
}

export function setUserPassword(
  env: Env,
  username: string,
  password: PasswordHash,
): Promise<RegistryResult<UserView>> {
  return userStoreOf(env, username).setUserPassword(username, password);
}

export function deleteUser(env: Env, username: string): Promise<RegistryResult<{ username: string }>> {
  return userStoreOf(env, username).deleteUser(username);
}

/** One page of the user list, in name order, and the name to continue after (null: this was the last page). */
export interface UsersPage {
  users: UserView[];
  next: string | null;
}

/**
 * A page of users across every user store: each store answers its first `limit + 1` names after `after` (one
 * indexed range read), the pages are merged in name order and cut at `limit`; a page that had more says where
 * the next one starts. Keyset pagination: a user created or deleted meanwhile never shifts the other pages.
 */
export async function listUsers(env: Env, after: string | null, limit: number): Promise<UsersPage> {
  const stores = allUserStores(readConfig(env).partitions);
  const pages = await Promise.all(
    stores.map((route) => userStoreStub(env, route).listUsers({ after, limit: limit + 1 })),
  );
  const merged = pages
    .flat()
    .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  const users = merged.slice(0, limit);
  const last = users[users.length - 1];
  return { users, next: merged.length > limit && last ? last.username : null };
}
