import { HTTPException } from "hono/http-exception";

/**
 * The one error protocol, Hono's: every error the service answers with extends `HTTPException` and renders
 * itself in `getResponse()`, so `app.onError` (src/http/error-response.ts) only dispatches.
 */
export abstract class HttpError extends HTTPException {
  abstract override getResponse(): Response;
}
