import { refuse } from "../../core/oauth-failure";
import { userStoreOf } from "../names";
import { admits, newerEpoch, type UserEpoch } from "../user-epoch";
import type { SqlRow } from "./schema";

/** The refusal of a credential checked before the user's password changed or the user was deleted. */
export const STALE_CREDENTIAL =
  "the user's password was changed or the user was deleted after these credentials were checked";

/** Users whose epoch a shard keeps in memory (beyond it, the memory starts over: the rows stay authoritative). */
const MEMORY_ENTRIES = 10_000;

/** A user's credential, as a mint presents it: whose, and the epoch it was checked at. */
export interface CredentialEpoch {
  user: string;
  epoch: number;
}

/** What {@link UserEpochs.prepare} fetched, for {@link UserEpochs.admit} to merge inside the transaction. */
export interface PreparedCredential extends CredentialEpoch {
  fetched: UserEpoch | null;
}

/**
 * This shard's view of the credential epochs of the users it mints for (src/durable/user-epoch.ts): the newest it
 * has heard of, from the user store's change notices (`record`) or, before the first mint for a user, from asking
 * the user store once (`prepare`), which then counts this shard among those it tells of the user's changes.
 * Every mint for a user is admitted here in its own transaction.
 */
export class UserEpochs {
  /**
   * The views read or written so far, so that a mint (a rotation above all) does not read its user's row twice.
   * Every write of the table goes through {@link record}, which keeps this in step. A write rolled back with its
   * transaction may leave a view here newer than the row: still a true epoch of the user (epochs only grow), so
   * the check is never weaker for it.
   */
  private readonly memory = new Map<string, UserEpoch>();

  /**
   * `shardName`: this shard's object name, which the user store records as one of the user's token places. Read
   * only when the user store is asked: an object woken by its alarm is not told its name.
   */
  constructor(
    private readonly env: Env,
    private readonly sql: SqlStorage,
    private readonly shardName: () => string,
  ) {}

  known(user: string): UserEpoch | null {
    const remembered = this.memory.get(user);
    if (remembered) return remembered;
    const rows = this.sql
      .exec<SqlRow>("SELECT epoch, live FROM user_epochs WHERE user = ?", user)
      .toArray() as Array<{ epoch: number; live: number }>;
    const row = rows[0];
    const view = row ? { epoch: row.epoch, live: row.live === 1 } : null;
    if (view) this.remember(user, view);
    return view;
  }

  /** Before the transaction (it may await the user store): the view to check against, when the shard has none. */
  async prepare(credential: CredentialEpoch | null): Promise<PreparedCredential | null> {
    if (!credential) return null;
    const fetched = this.known(credential.user)
      ? null
      : await userStoreOf(this.env, credential.user).userEpoch(credential.user, this.shardName());
    return { ...credential, fetched };
  }

  /**
   * Inside the minting transaction: refuses (rolling it back) a credential older than the newest view of its
   * user. A credential newer than the view proves that epoch, which becomes the view.
   */
  admit(prepared: PreparedCredential | null): void {
    if (!prepared) return;
    if (prepared.fetched) this.record(prepared.user, prepared.fetched);
    const known = this.known(prepared.user) ?? { epoch: prepared.epoch, live: true };
    if (!admits(known, prepared.epoch)) throw refuse("invalid_grant", STALE_CREDENTIAL);
    if (prepared.epoch > known.epoch) this.record(prepared.user, { epoch: prepared.epoch, live: true });
  }

  /** Merges a view of the user into this shard's (the newer one wins). */
  record(user: string, view: UserEpoch): void {
    const known = this.known(user);
    const next = known ? newerEpoch(known, view) : view;
    this.sql.exec(
      `INSERT INTO user_epochs (user, epoch, live) VALUES (?, ?, ?)
       ON CONFLICT (user) DO UPDATE SET epoch = excluded.epoch, live = excluded.live`,
      user,
      next.epoch,
      next.live ? 1 : 0,
    );
    this.remember(user, next);
  }

  private remember(user: string, view: UserEpoch): void {
    if (this.memory.size >= MEMORY_ENTRIES && !this.memory.has(user)) this.memory.clear();
    this.memory.set(user, view);
  }
}
