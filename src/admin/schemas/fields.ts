import { z } from "@hono/zod-openapi";
import { InputError } from "../../errors/input-error";
import { callbackUrl as callbackUrlRule } from "../../services/application-rules";

/**
 * Field schemas shared by the admin API's resources. Each names its field in its messages, so that the first
 * issue of a failed validation is the whole 400 message (`{"error":"invalid_request","message":"name is
 * required"}`, README "Admin API"). Optional fields also accept null, meaning "not given".
 */

/** A trimmed, non-empty string of at most `max` characters. */
export function text(name: string, max: number) {
  return z
    .string({
      error: (issue) =>
        issue.input === undefined ? `${name} is required` : `${name} must be a non-empty string`,
    })
    .max(max, { error: `${name} must be at most ${max} characters` })
    .trim()
    .min(1, { error: `${name} must be a non-empty string` });
}

export function optionalText(name: string, max: number) {
  return text(name, max).nullish();
}

/** An integer from `min` to `max`, also given as a string of digits (as HTML forms send numbers). */
export function integer(name: string, min: number, max: number) {
  const message = `${name} must be an integer from ${min} to ${max}`;
  return z
    .union(
      [
        z.number({ error: message }),
        z
          .string({ error: message })
          .trim()
          .regex(/^-?\d+$/, { error: message }),
      ],
      {
        error: message,
      },
    )
    .transform(Number)
    .pipe(z.int({ error: message }).min(min, { error: message }).max(max, { error: message }))
    .openapi({ type: "integer", minimum: min, maximum: max });
}

export function optionalBoolean(name: string) {
  return z.boolean({ error: `${name} must be true or false` }).nullish();
}

/** A list given as a JSON array or a comma-separated string (as WSO2's Store form takes allowed domains). */
export function stringList(name: string, maxEntries = 100) {
  const message = `${name} must be an array of strings`;
  return z
    .union([z.array(z.string({ error: message }), { error: message }), z.string({ error: message })], {
      error: message,
    })
    .transform((value) =>
      (typeof value === "string" ? value.split(",") : value)
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    )
    .pipe(z.array(z.string()).max(maxEntries, { error: `${name} may have at most ${maxEntries} entries` }))
    .openapi({ type: "array", items: { type: "string" }, maxItems: maxEntries });
}

function absoluteUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** An absolute http(s) URL without a fragment. */
export function httpUrl(name: string, max = 2000) {
  return text(name, max)
    .superRefine((value, ctx) => {
      const url = absoluteUrl(value);
      if (!url) ctx.addIssue({ code: "custom", message: `${name} must be an absolute URL` });
      else if (url.protocol !== "http:" && url.protocol !== "https:")
        ctx.addIssue({ code: "custom", message: `${name} must be an http or https URL` });
      else if (url.hash) ctx.addIssue({ code: "custom", message: `${name} must not have a fragment` });
    })
    .openapi({ format: "uri" });
}

/**
 * A field checked by one of the rules the admin API shares with the developer portal
 * (src/services/application-rules.ts): the rule's InputError becomes the field's issue.
 */
export function ruled<T>(rule: (value: unknown) => T) {
  return z.unknown().transform((value, ctx): T => {
    try {
      return rule(value);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      ctx.addIssue({ code: "custom", message: error.message });
      return z.NEVER;
    }
  });
}

/** A registered redirect URI: absolute, no fragment (RFC 6749 §3.1.2); private-use schemes allowed (RFC 8252). */
export function callbackUrl(name: string) {
  return z
    .string({ error: `${name} must be an absolute URL` })
    .transform((value, ctx): string => {
      try {
        return callbackUrlRule(value, name);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        ctx.addIssue({ code: "custom", message: error.message });
        return z.NEVER;
      }
    })
    .openapi({ type: "string", format: "uri" });
}

/** Every error of the admin API. */
export const AdminErrorSchema = z
  .object({
    error: z.string().openapi({ example: "invalid_request" }),
    message: z.string().openapi({ example: "name is required" }),
  })
  .openapi("AdminError");

const errorContent = { "application/json": { schema: AdminErrorSchema } };
const ERROR_DESCRIPTIONS = {
  400: "Invalid input (the message names the field)",
  401: "No or a wrong admin token",
  404: "No such resource",
  409: "Conflicts with an existing resource",
  413: "The body exceeds 64 KiB",
  415: "The body is not application/json",
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;
type ErrorResponse = { description: string; content: typeof errorContent };

/** The error responses of a route (401 always), for the OpenAPI document. */
export function errors<S extends ErrorStatus>(...statuses: S[]): Record<S | 401, ErrorResponse> {
  const responses: Partial<Record<ErrorStatus, ErrorResponse>> = {};
  for (const status of [401 as const, ...statuses]) {
    responses[status] = { description: ERROR_DESCRIPTIONS[status], content: errorContent };
  }
  return responses as Record<S | 401, ErrorResponse>;
}

/** The JSON body of a request, for `createRoute`. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { "application/json": { schema } } } as const;
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } } as const;
}

export const NoContent = { description: "Done; no body" } as const;

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "id", in: "path" } }),
});
