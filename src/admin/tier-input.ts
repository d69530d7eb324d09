import { TIER_LIMITS, TIER_NAME } from "../core/tiers";
import type { TierChanges, TierInput } from "../durable/registry/tiers";
import { AdminError } from "../errors/admin-error";
import { type JsonObject, optionalBoolean, optionalString } from "./input";

/**
 * The admin API's tier input (README "Throttling"), in one place: `name`, `requestCount` (calls per window, 1 to
 * 10^9), `unitTime` (the window in seconds, 1 s to a year), `stopOnQuotaReach` (default true), `description`.
 * Anything else is a 400 naming the field; nothing is stored.
 */
const invalid = (message: string) => new AdminError(400, "invalid_request", message);

/** A tier name as a subscription, an application or a path names it. */
export function tierName(value: unknown, field = "name"): string {
  if (typeof value !== "string" || value.trim() === "") throw invalid(`${field} must be a non-empty string`);
  const name = value.trim();
  if (name.length > TIER_LIMITS.maxNameLength || !TIER_NAME.test(name)) {
    throw invalid(
      `${field} must be 1 to ${TIER_LIMITS.maxNameLength} letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return name;
}

/** An optional tier name (`tier` of a subscription or application); absent or null: undefined. */
export function optionalTierName(body: JsonObject, field = "tier"): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  return tierName(value, field);
}

function count(body: JsonObject, field: string, max: number, unit: string): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalid(`${field} must be a whole number of ${unit} from 1 to ${max}`);
  }
  return value;
}

function description(body: JsonObject): string | null | undefined {
  if (body.description === null) return null;
  return optionalString(body, "description", TIER_LIMITS.maxDescriptionLength);
}

/** `POST /admin/tiers`. */
export function newTier(body: JsonObject): TierInput {
  const name = tierName(body.name);
  const requestCount = count(body, "requestCount", TIER_LIMITS.maxRequestCount, "requests");
  const unitTime = count(body, "unitTime", TIER_LIMITS.maxUnitTime, "seconds");
  if (requestCount === undefined) throw invalid("requestCount is required");
  if (unitTime === undefined) throw invalid("unitTime is required (seconds)");
  return {
    name,
    requestCount,
    unitTime,
    stopOnQuotaReach: optionalBoolean(body, "stopOnQuotaReach") ?? true,
    description: description(body) ?? null,
  };
}

/** `PUT`/`PATCH /admin/tiers/{name}`: the fields given; a `name` must be the path's (a tier is not renamed). */
export function tierChanges(body: JsonObject, pathName: string): TierChanges {
  if (
    body.name !== undefined &&
    (typeof body.name !== "string" || body.name.toLowerCase() !== pathName.toLowerCase())
  ) {
    throw invalid("a tier cannot be renamed: create a new one and move its users");
  }
  const changes: TierChanges = {
    requestCount: count(body, "requestCount", TIER_LIMITS.maxRequestCount, "requests"),
    unitTime: count(body, "unitTime", TIER_LIMITS.maxUnitTime, "seconds"),
    stopOnQuotaReach: optionalBoolean(body, "stopOnQuotaReach"),
    description: description(body),
  };
  const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
  if (Object.keys(defined).length === 0) {
    throw invalid("nothing to change: give requestCount, unitTime, stopOnQuotaReach or description");
  }
  return defined as TierChanges;
}
