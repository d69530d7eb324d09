import { jsonResponse } from "../core/responses";
import { HttpError } from "./http-error";

/**
 * A value a person or client sent breaks one of the service's input rules (src/services/application-rules.ts).
 * The admin API answers it as `400 {"error":"invalid_request","message"}`; the developer portal shows the
 * message on the page. Messages are written for a developer to read.
 */
export class InputError extends HttpError {
  constructor(message: string) {
    super(400, { message });
    this.name = "InputError";
  }

  override getResponse(): Response {
    return jsonResponse({ error: "invalid_request", message: this.message }, 400);
  }
}
