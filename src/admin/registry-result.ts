import type { RegistryFailure, RegistryResult } from "../durable/registry/result";
import { AdminError } from "../errors/admin-error";

const REGISTRY_STATUS: Record<RegistryFailure["error"], 400 | 404 | 409> = {
  not_found: 404,
  conflict: 409,
  invalid: 400,
};
const REGISTRY_CODE: Record<RegistryFailure["error"], string> = {
  not_found: "not_found",
  conflict: "conflict",
  invalid: "invalid_request",
};

/** A registry failure as the admin API's error: 404 not_found, 409 conflict, 400 invalid_request. */
function adminErrorFrom(failure: RegistryFailure): AdminError {
  return new AdminError(REGISTRY_STATUS[failure.error], REGISTRY_CODE[failure.error], failure.message);
}

/** The value of a registry call, or its failure thrown as the admin API's 404 / 409. */
export function unwrap<T>(result: RegistryResult<T>): T {
  if (!result.ok) throw adminErrorFrom(result.failure);
  return result.value;
}
