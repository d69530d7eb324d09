/**
 * WSO2's allowed domains: when an application's key lists domains, a call must come from one of them; no list
 * allows every domain (README "Gateway" and "Calling an API from a web page").
 *
 * Which domain a call comes from:
 * - a browser sets `Origin` itself and page script cannot change it, so when a call carries `Origin`, that
 *   origin's host is the domain checked (a page could set the domain header to anything it likes);
 * - without `Origin`, the `CLIENT_DOMAIN_HEADER` header (default `domain`, as in `-H "domain: wso2.com"`), a
 *   bare domain (`wso2.com`) or an origin (`https://wso2.com:443`);
 * - both present and naming different hosts: refused, whatever the key allows.
 *
 * Matching is on the lower-cased host name, exactly, or by a declared wildcard: `*.example.com` admits any
 * subdomain of example.com (`a.example.com`, `a.b.example.com`) but not example.com itself. Never by suffix or
 * substring: `wso2.com` does not admit `evilwso2.com` nor `evil.wso2.com`.
 */
export type DomainRefusal = "domain_header_missing" | "domain_not_allowed" | "origin_domain_mismatch";
export type DomainCheck = { ok: true } | { ok: false; reason: DomainRefusal };

/** The host a domain-header value (or an allowed-domain entry) names; null when blank. */
export function requestDomain(value: string | null): string | null {
  const trimmed = (value ?? "").trim().toLowerCase();
  if (trimmed === "") return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(trimmed)) {
    try {
      return new URL(trimmed).hostname || null;
    } catch {
      return trimmed;
    }
  }
  return trimmed.replace(/:\d+$/, "");
}

/**
 * The host of an `Origin` header value. An opaque origin (`null`, e.g. a sandboxed frame or a file: page) or
 * anything unparsable has none: it is returned as "" so that it matches no allowed domain.
 */
export function originHost(origin: string): string {
  try {
    const url = new URL(origin.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url.hostname : "";
  } catch {
    return "";
  }
}

/** True when `host` is admitted by one allowed-domain entry: the same host, or under a `*.` wildcard. */
export function domainMatches(entry: string, host: string): boolean {
  if (host === "") return false;
  const pattern = requestDomain(entry);
  if (pattern === null) return false;
  if (pattern.startsWith("*.")) {
    const parent = pattern.slice(1); // ".example.com"
    return parent.length > 1 && host.length > parent.length && host.endsWith(parent);
  }
  return pattern === host;
}

export interface CallDomain {
  /** The `Origin` header, if any. */
  origin: string | null;
  /** The `CLIENT_DOMAIN_HEADER` header, if any. */
  domainHeader: string | null;
}

export function checkDomain(allowedDomains: readonly string[], call: CallDomain): DomainCheck {
  const fromHeader = requestDomain(call.domainHeader);
  const fromOrigin = call.origin === null ? null : originHost(call.origin);
  if (fromOrigin !== null && fromHeader !== null && fromOrigin !== fromHeader) {
    return { ok: false, reason: "origin_domain_mismatch" };
  }
  if (allowedDomains.length === 0) return { ok: true };
  const domain = fromOrigin ?? fromHeader;
  if (domain === null) return { ok: false, reason: "domain_header_missing" };
  return allowedDomains.some((entry) => domainMatches(entry, domain))
    ? { ok: true }
    : { ok: false, reason: "domain_not_allowed" };
}
