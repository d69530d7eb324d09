import { OpenAPIHono, type OpenAPIHonoOptions } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { ZodError } from "zod";
import { AdminError } from "../errors/admin-error";
import type { AppEnv } from "../http/app-env";

const MAX_JSON_BYTES = 64 * 1024;

/** The message of a failed validation: its first issue, named after its field (README "Admin API"). */
function messageOf(error: ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid input";
  const path = issue.path
    .map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`))
    .join("");
  const field = path.replace(/^\./, "");
  return field && !issue.message.startsWith(field.split(/[.[]/)[0] as string)
    ? `${field}: ${issue.message}`
    : issue.message;
}

/**
 * Turns a failed validation into the admin API's error: 400 `invalid_request` for a body or query, 404 for a
 * path parameter (a path that names nothing is "no such resource").
 */
const validationFailure: NonNullable<OpenAPIHonoOptions<AppEnv>["defaultHook"]> = (result) => {
  if (result.success) return;
  if (result.target === "param") throw new AdminError(404, "not_found", messageOf(result.error));
  throw new AdminError(400, "invalid_request", messageOf(result.error));
};

/** A router of the admin API: routes declared with `createRoute` (src/admin/schemas/), validated by their schemas. */
export function adminRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationFailure });
}

/**
 * Before a route's schema sees the body: 415 unless it is `application/json`, 413 over 64 KiB, 400
 * `invalid_json` when it does not parse and `invalid_request` when it is not a JSON object.
 */
export const jsonObjectBody: MiddlewareHandler = async (c, next) => {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json")
    throw new AdminError(415, "unsupported_media_type", "send Content-Type: application/json");
  const text = await c.req.text();
  if (text.length > MAX_JSON_BYTES)
    throw new AdminError(413, "too_large", `the body exceeds ${MAX_JSON_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AdminError(400, "invalid_json", "the body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AdminError(400, "invalid_request", "the body must be a JSON object");
  }
  await next();
};

/** As {@link jsonObjectBody} when the request has a body at all; a request without one is `{}`. */
export const optionalJsonObjectBody: MiddlewareHandler = async (c, next) => {
  const hasBody = (c.req.header("content-length") ?? "0") !== "0" || c.req.header("content-type");
  if (hasBody) return jsonObjectBody(c, next);
  await next();
};
