/** Admin-API outcome of a registry call; errors travel as data across the RPC boundary. */
export type RegistryResult<T> =
  | { ok: true; value: T }
  | { ok: false; status: 400 | 404 | 409; code: string; message: string };

export const found = <T>(value: T): RegistryResult<T> => ({ ok: true, value });
export const notFound = (message: string): RegistryResult<never> => ({
  ok: false,
  status: 404,
  code: "not_found",
  message,
});
export const conflict = (message: string): RegistryResult<never> => ({
  ok: false,
  status: 409,
  code: "conflict",
  message,
});
export const badRequest = (message: string): RegistryResult<never> => ({
  ok: false,
  status: 400,
  code: "invalid_request",
  message,
});
