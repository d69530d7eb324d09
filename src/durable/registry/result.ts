/** Why a registry call changed or found nothing: no such record, it clashes with one that exists, or it names
 *  something that does not exist (an unknown tier): the client's input is wrong. */
export interface RegistryFailure {
  error: "not_found" | "conflict" | "invalid";
  message: string;
}

/** What a registry call answers; a failure is data, because class instances do not cross the RPC boundary. */
export type RegistryResult<T> = { ok: true; value: T } | { ok: false; failure: RegistryFailure };

export const found = <T>(value: T): RegistryResult<T> => ({ ok: true, value });
export const notFound = (message: string): RegistryResult<never> => ({
  ok: false,
  failure: { error: "not_found", message },
});
export const conflict = (message: string): RegistryResult<never> => ({
  ok: false,
  failure: { error: "conflict", message },
});
export const invalid = (message: string): RegistryResult<never> => ({
  ok: false,
  failure: { error: "invalid", message },
});
