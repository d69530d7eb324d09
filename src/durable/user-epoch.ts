/**
 * Credential epochs (README "Users: deletion and password changes"). Every user has an epoch: a number from one
 * counter of the user store, taken anew when the user is created and when the password changes; deleting the
 * user takes one more and records it as a tombstone. Whatever proves the user's consent or credentials (a
 * password check, a consent form, a code, a refresh family, an accepted assertion, a subject token) carries the
 * epoch it was checked at, and a token is minted only if that epoch is still the user's current one, checked in
 * the same serialized step that writes the token (src/durable/shard/user-epochs.ts).
 *
 * Numbers only grow, so any two views of a user can be merged by keeping the larger: a shard never needs to
 * know in which order it heard of two changes. This module is the whole rule, shared by the user store and the
 * token shards.
 */
export interface UserEpoch {
  epoch: number;
  /** False for a tombstone: the user was deleted at `epoch`. */
  live: boolean;
}

/** The newer of two views of one user (a tombstone wins a tie: deletion is the later event). */
export function newerEpoch(a: UserEpoch, b: UserEpoch): UserEpoch {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? a : b;
  return a.live ? b : a;
}

/**
 * Whether a credential checked at `credentialEpoch` may still mint, given the newest known view of the user: yes
 * when nothing has changed since (same epoch, user live), or when the credential is newer than that view (the
 * view is then stale and the credential proves the user exists at that epoch).
 */
export function admits(known: UserEpoch, credentialEpoch: number): boolean {
  return credentialEpoch > known.epoch || (credentialEpoch === known.epoch && known.live);
}
