import { registryStub } from "../durable/names";
import { InputError } from "../errors/input-error";

/** A tier as the developer portal offers it: its name, and its limit in words. */
export interface OfferedTier {
  name: string;
  summary: string;
}

function per(seconds: number): string {
  if (seconds === 60) return "minute";
  if (seconds === 3600) return "hour";
  if (seconds === 86400) return "day";
  return `${seconds} s`;
}

/**
 * The tiers the developer portal offers for applications and subscriptions: the registry's tiers (admin data,
 * README "Throttling"), strictest first, `Unlimited` last.
 */
export async function offeredTiers(env: Env): Promise<OfferedTier[]> {
  return (await registryStub(env).listTiers()).map((tier) => ({
    name: tier.name,
    summary:
      tier.requestCount === null || tier.unitTime === null
        ? "no limit"
        : `${tier.requestCount} ${tier.requestCount === 1 ? "request" : "requests"} per ${per(tier.unitTime)}`,
  }));
}

/** One of the offered tiers, by its exact name. */
export function offeredTier(value: string | undefined, tiers: readonly OfferedTier[], name: string): string {
  if (value === undefined || value.trim() === "") throw new InputError(`${name}: choose a tier.`);
  const tier = tiers.find((candidate) => candidate.name === value.trim());
  if (!tier) {
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    throw new InputError(
      `${name}: "${shown}" is not a tier. Choose one of ${tiers.map((t) => t.name).join(", ")}.`,
    );
  }
  return tier.name;
}
