import { createRoute, z } from "@hono/zod-openapi";
import { TIER_LIMITS, TIER_NAME } from "../../core/tiers";
import { jsonObjectBody } from "../admin-app";
import { errors, jsonBody, jsonResponse, NoContent, optionalBoolean, optionalText } from "./fields";

/** A tier name as a tier, a subscription, an application or a path names it (README "Throttling"). */
export function tierName(field: string) {
  const shape = `${field} must be 1 to ${TIER_LIMITS.maxNameLength} letters, digits, '.', '_' or '-', starting with a letter or digit`;
  return z
    .string({
      error: (issue) =>
        issue.input === undefined ? `${field} is required` : `${field} must be a non-empty string`,
    })
    .trim()
    .min(1, { error: `${field} must be a non-empty string` })
    .max(TIER_LIMITS.maxNameLength, { error: shape })
    .regex(TIER_NAME, { error: shape })
    .openapi({ example: "Gold" });
}

/** A whole number from 1 to `max` (a JSON number, not a string). */
function count(field: string, max: number, unit: string, required: string) {
  const message = `${field} must be a whole number of ${unit} from 1 to ${max}`;
  return z
    .number({ error: (issue) => (issue.input === undefined ? required : message) })
    .int({ error: message })
    .min(1, { error: message })
    .max(max, { error: message });
}

const requestCount = count(
  "requestCount",
  TIER_LIMITS.maxRequestCount,
  "requests",
  "requestCount is required",
);
const unitTime = count(
  "unitTime",
  TIER_LIMITS.maxUnitTime,
  "seconds",
  "unitTime is required (seconds)",
).openapi({
  description: "The window, in seconds",
});
const description = optionalText("description", TIER_LIMITS.maxDescriptionLength);
const stopOnQuotaReach = optionalBoolean("stopOnQuotaReach").openapi({
  description: "Over the limit: 429 (true, default) or forward marked X-Ekm-Throttled: true (false)",
});

export const Tier = z
  .object({
    name: z.string(),
    requestCount: z.number().int().nullable().openapi({ description: "null: unlimited" }),
    unitTime: z.number().int().nullable().openapi({ description: "Seconds; null: unlimited" }),
    stopOnQuotaReach: z.boolean(),
    description: z.string().nullable(),
  })
  .openapi("Tier");

export const NewTier = z
  .object({ name: tierName("name"), requestCount, unitTime, stopOnQuotaReach, description })
  .openapi("NewTier");

export const TierChanges = z
  .object({
    name: z
      .unknown()
      .optional()
      .openapi({ description: "If given, the tier's own name: a tier is not renamed" }),
    requestCount: requestCount.optional(),
    unitTime: unitTime.optional(),
    stopOnQuotaReach,
    description,
  })
  .superRefine((body, ctx) => {
    const { name: _name, ...changes } = body;
    if (Object.values(changes).every((value) => value === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: "nothing to change: give requestCount, unitTime, stopOnQuotaReach or description",
      });
    }
  })
  .openapi("TierChanges");

const NameParam = z.object({
  name: tierName("tier name").openapi({ param: { name: "name", in: "path" } }),
});

const tags = ["tiers"];

export const listTiers = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List the throttling tiers",
  responses: { 200: jsonResponse(z.array(Tier), "Every tier, Unlimited included"), ...errors() },
});

export const createTier = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create a tier",
  middleware: [jsonObjectBody] as const,
  request: { body: jsonBody(NewTier) },
  responses: { 201: jsonResponse(Tier, "The tier"), ...errors(400, 409, 413, 415) },
});

export const getTier = createRoute({
  method: "get",
  path: "/{name}",
  tags,
  summary: "Read a tier (the name in any letter case)",
  request: { params: NameParam },
  responses: { 200: jsonResponse(Tier, "The tier"), ...errors(404) },
});

/** PUT and PATCH alike: the fields given change, the others stay. */
export const updateTier = (method: "put" | "patch") =>
  createRoute({
    method,
    path: "/{name}",
    tags,
    summary: "Change a tier (Unlimited is built in: 409)",
    middleware: [jsonObjectBody] as const,
    request: { params: NameParam, body: jsonBody(TierChanges) },
    responses: { 200: jsonResponse(Tier, "The tier"), ...errors(400, 404, 409, 413, 415) },
  });

export const deleteTier = createRoute({
  method: "delete",
  path: "/{name}",
  tags,
  summary: "Delete a tier nobody uses (Unlimited and tiers in use: 409)",
  request: { params: NameParam },
  responses: { 204: NoContent, ...errors(404, 409) },
});
