import { env, runInDurableObject } from "cloudflare:test";
import type { UserStoreRoute } from "../../src/core/user-store-routing";
import { userStoreStub } from "../../src/durable/names";
/**
 * Distinct user names that look like real ones rather than a numbered sequence (FNV-1a of `user1..userN` is
 * unusually even): a seeded generator, so every run is the same.
 */
export function userNames(count: number): string[] {
  let seed = 0x2545f491;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const alphabet = "abcdefghijklmnopqrstuvwxyz";
  const names = new Set<string>();
  while (names.size < count) {
    const length = 3 + Math.floor(next() * 8);
    let name = "";
    for (let i = 0; i < length; i++) name += alphabet[Math.floor(next() * alphabet.length)];
    if (next() < 0.5) name += `.${alphabet[Math.floor(next() * alphabet.length)]}`;
    if (next() < 0.3) name += String(Math.floor(next() * 100));
    names.add(name);
  }
  return [...names];
}

/** The user names one user-store object holds, read from its SQLite through the production stub. */
export async function storedUsers(route: UserStoreRoute): Promise<string[]> {
  return runInDurableObject(userStoreStub(env, route), (_instance, state) =>
    state.storage.sql
      .exec<{ username: string }>("SELECT username FROM users ORDER BY username")
      .toArray()
      .map((row) => row.username),
  );
}
