/**
 * User-store partitions (README "Users: the user store"): a user-store domain declared partitioned keeps the
 * credentials and tokens of its users in Durable Objects of its own, never in the storage of another domain,
 * optionally pinned to a Durable Object jurisdiction (data residency). Declared in configuration,
 * `USER_STORE_PARTITIONS`: a comma-separated list of `DOMAIN` or `DOMAIN:jurisdiction`, e.g. `FOO, EUSTORE:eu`.
 *
 * A partition is a deployment decision, like the number of token shards: declare it before the domain has users.
 * Declaring it later leaves that domain's existing users and tokens where they were, unreachable (README).
 */
export type Jurisdiction = "eu" | "fedramp" | "fedramp-high";

const JURISDICTIONS: readonly Jurisdiction[] = ["eu", "fedramp", "fedramp-high"];

/** A partition's name is its domain, upper case; it appears in token routing parts, so it is kept URL-safe. */
export const PARTITION_NAME = /^[A-Z0-9_]{1,32}$/;

export interface Partition {
  domain: string;
  jurisdiction: Jurisdiction | null;
}

/** Partitioned domains by name; PRIMARY (the default store) is never one. */
export type Partitions = ReadonlyMap<string, Partition>;

export const NO_PARTITIONS: Partitions = new Map();

export function readPartitions(raw: unknown): Partitions {
  const text = String(raw ?? "").trim();
  if (text === "") return NO_PARTITIONS;
  const partitions = new Map<string, Partition>();
  for (const entry of text.split(",")) {
    const [domainText, jurisdictionText, ...rest] = entry.split(":").map((part) => part.trim());
    const domain = (domainText ?? "").toUpperCase();
    if (rest.length > 0 || !PARTITION_NAME.test(domain) || domain === "PRIMARY") {
      throw new Error(
        `config USER_STORE_PARTITIONS: "${entry.trim()}" is not DOMAIN or DOMAIN:jurisdiction (A-Z, 0-9, _; not PRIMARY)`,
      );
    }
    let jurisdiction: Jurisdiction | null = null;
    if (jurisdictionText !== undefined && jurisdictionText !== "") {
      const wanted = jurisdictionText.toLowerCase() as Jurisdiction;
      if (!JURISDICTIONS.includes(wanted)) {
        throw new Error(
          `config USER_STORE_PARTITIONS: unknown jurisdiction "${jurisdictionText}" (${JURISDICTIONS.join(", ")})`,
        );
      }
      jurisdiction = wanted;
    }
    partitions.set(domain, { domain, jurisdiction });
  }
  return partitions;
}

/** The partition a user-store domain belongs to; null: the shared user store and token shards. */
export function partitionOf(partitions: Partitions, domain: string | null): Partition | null {
  return domain === null ? null : (partitions.get(domain) ?? null);
}
