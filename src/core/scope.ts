import type { KeyType } from "./client-record";
import { refuse } from "./oauth-failure";

/** What a token gets when the client asks for no scope (as WSO2 API Manager does). */
export const DEFAULT_SCOPE = "default";
const KEY_TYPE_SCOPES = new Set(["PRODUCTION", "SANDBOX"]);
/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScope(raw: string | null | undefined): string[] {
  if (raw === null || raw === undefined) return [];
  const scopes: string[] = [];
  for (const part of raw.split(" ")) {
    if (part === "") continue;
    if (!SCOPE_TOKEN.test(part))
      throw refuse("invalid_scope", `scope "${part}" has characters RFC 6749 §3.3 does not allow`);
    if (!scopes.includes(part)) scopes.push(part);
  }
  return scopes;
}

/**
 * The scope to grant for a request on a key of `keyType`. PRODUCTION and SANDBOX are accepted and echoed but
 * must name the key's own type (README "Token API"); no scope at all grants `default`.
 */
export function grantScope(raw: string | null | undefined, keyType: KeyType): string {
  const scopes = parseScope(raw);
  for (const scope of scopes) {
    if (KEY_TYPE_SCOPES.has(scope) && scope !== keyType) {
      throw refuse("invalid_scope", `scope ${scope} does not match this ${keyType} key`);
    }
  }
  return scopes.length > 0 ? scopes.join(" ") : DEFAULT_SCOPE;
}

/**
 * RFC 6749 §6: a refresh may narrow the originally granted scope, never widen it. The key's own type
 * (PRODUCTION / SANDBOX) counts as granted, since every token of the key carries it implicitly.
 */
export function narrowScope(raw: string | null | undefined, granted: string, keyType: KeyType): string {
  const requested = parseScope(raw);
  if (requested.length === 0) return granted;
  const allowed = new Set([...granted.split(" "), keyType]);
  for (const scope of requested) {
    if (!allowed.has(scope)) {
      throw refuse(
        "invalid_scope",
        `scope ${scope} was not granted originally and cannot be added on refresh`,
      );
    }
  }
  return requested.join(" ");
}
