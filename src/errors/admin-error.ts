import { jsonResponse } from "../core/responses";
import { HttpError } from "./http-error";

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

  override getResponse(): Response {
    const headers: Record<string, string> =
      this.status === 401 ? { "WWW-Authenticate": 'Bearer realm="edge-key-manager admin"' } : {};
    return jsonResponse({ error: this.code, message: this.message }, this.status, headers);
  }
}
