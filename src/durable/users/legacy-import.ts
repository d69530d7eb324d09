import type { UserStoreRoute } from "../../core/user-store-routing";
import { registryStub } from "../names";
import type { UserAccounts } from "./accounts";
import type { TokenPlaces } from "./token-places";

/** Storage key of how far this store has come in taking its users over from the registry. */
export const LEGACY_IMPORT = "legacy-users";
export type ImportState = "stored" | "done";

/**
 * Users created before the user store existed lived in the registry (README "Users: the user store",
 * "Existing local state"). On its first start, before it answers anything, each user store takes over the users
 * whose names route to it: it stores them with their epochs and the token shards that know them, raises its
 * epoch counter past the registry's, and then has the registry delete them. Each step is recorded, so it runs
 * once; a crash in between repeats a step, which is harmless (both are idempotent).
 */
export async function importLegacyUsers(
  env: Env,
  storage: DurableObjectStorage,
  route: UserStoreRoute,
  accounts: UserAccounts,
  places: TokenPlaces,
): Promise<void> {
  const state = storage.kv.get<ImportState>(LEGACY_IMPORT);
  if (state === "done") return;
  const registry = registryStub(env);
  if (state !== "stored") {
    const handover = await registry.handOverUsers(route);
    storage.transactionSync(() => {
      accounts.adopt(handover.users, handover.epochCounter);
      for (const user of handover.users) {
        for (const place of user.places) places.add(user.username, place);
      }
      storage.kv.put<ImportState>(LEGACY_IMPORT, "stored");
    });
  }
  await registry.forgetHandedOverUsers(route);
  storage.kv.put<ImportState>(LEGACY_IMPORT, "done");
}
