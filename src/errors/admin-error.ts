import { jsonResponse } from "../core/responses";
import type { RegistryFailure, RegistryResult } from "../durable/registry/result";
import { HttpError } from "./http-error";

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

/** An error of the admin API: `{"error": code, "message": ...}`; a 401 names the Bearer scheme (RFC 6750 §3). */
export class AdminError extends HttpError {
  constructor(
    status: 400 | 401 | 404 | 405 | 409 | 413 | 415,
    readonly code: string,
    message: string,
  ) {
    super(status, { message });
    this.name = "AdminError";
  }

  static from(failure: RegistryFailure): AdminError {
    return new AdminError(REGISTRY_STATUS[failure.error], REGISTRY_CODE[failure.error], failure.message);
  }

  override getResponse(): Response {
    const headers: Record<string, string> =
      this.status === 401 ? { "WWW-Authenticate": 'Bearer realm="edge-key-manager admin"' } : {};
    return jsonResponse({ error: this.code, message: this.message }, this.status, headers);
  }
}

/** The value of a registry call, or its failure thrown as the admin API's 404 / 409. */
export function unwrap<T>(result: RegistryResult<T>): T {
  if (!result.ok) throw AdminError.from(result.failure);
  return result.value;
}
