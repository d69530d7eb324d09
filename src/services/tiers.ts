import type { Env } from "../env";
import { InputError } from "../errors/input-error";

/**
 * The tiers the developer portal offers for applications and subscriptions: WSO2 API Manager 1.10's defaults
 * (CONTRACT "Throttling tiers"), the names the registry accepts today.
 */
const DEFAULT_TIER_NAMES: readonly string[] = ["Bronze", "Silver", "Gold", "Unlimited"];

export async function offeredTiers(_env: Env): Promise<readonly string[]> {
  return DEFAULT_TIER_NAMES;
}

/** One of the offered tiers, by its exact name. */
export function offeredTier(value: string | undefined, tiers: readonly string[], name: string): string {
  if (value === undefined || value.trim() === "") throw new InputError(`${name}: choose a tier.`);
  const tier = tiers.find((candidate) => candidate === value.trim());
  if (!tier) {
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    throw new InputError(`${name}: "${shown}" is not a tier. Choose one of ${tiers.join(", ")}.`);
  }
  return tier;
}
