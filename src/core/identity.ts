/**
 * WSO2 user names: `[DOMAIN/]name[@tenant]`. The user-store domain defaults to PRIMARY and is
 * case-insensitive; the tenant defaults to carbon.super. The canonical form leaves PRIMARY out, so the
 * default user `alice` is `alice@carbon.super` and a secondary-store user is `FOO/alice@carbon.super`.
 */
export const DEFAULT_TENANT = "carbon.super";
export const PRIMARY_DOMAIN = "PRIMARY";

export interface UserName {
  name: string;
  tenant: string;
  userStoreDomain: string;
}

const PART = /^[A-Za-z0-9._\-+]+$/;
const TENANT = /^[A-Za-z0-9.-]+$/;

/** Parses a user name as typed at a login prompt or in a `username` parameter; `null` if malformed. */
export function parseUserName(input: string, defaults: Partial<UserName> = {}): UserName | null {
  let rest = input.trim();
  let userStoreDomain = defaults.userStoreDomain ?? PRIMARY_DOMAIN;
  let tenant = defaults.tenant ?? DEFAULT_TENANT;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    userStoreDomain = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    tenant = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  if (!PART.test(rest) || !PART.test(userStoreDomain) || !TENANT.test(tenant)) return null;
  return { name: rest, tenant: tenant.toLowerCase(), userStoreDomain: userStoreDomain.toUpperCase() };
}

/** `alice@carbon.super`, or `FOO/alice@carbon.super` for a secondary user store. */
export function formatUserName(user: UserName): string {
  const domain = user.userStoreDomain === PRIMARY_DOMAIN ? "" : `${user.userStoreDomain}/`;
  return `${domain}${user.name}@${user.tenant}`;
}

/** Canonical form of a user name string, or `null` if malformed. */
export function canonicalUserName(input: string): string | null {
  const parsed = parseUserName(input);
  return parsed ? formatUserName(parsed) : null;
}

export function tenantOf(canonical: string): string {
  return canonical.slice(canonical.lastIndexOf("@") + 1);
}

/** The name a log-in attempt is throttled and routed under: the canonical user name, or the text as typed (bounded). */
export function loginPrincipal(input: string): string {
  return canonicalUserName(input) ?? input.trim().toLowerCase().slice(0, 256);
}

/** The user-store domain of a canonical name (`FOO/alice@t` is FOO, `alice@t` PRIMARY); null for any other text. */
export function userStoreDomainOf(canonical: string): string | null {
  const parsed = parseUserName(canonical);
  return parsed && formatUserName(parsed) === canonical ? parsed.userStoreDomain : null;
}
