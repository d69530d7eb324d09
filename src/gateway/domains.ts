/**
 * WSO2's allowed domains: when an application's key lists domains, a call must name one of them in the
 * `CLIENT_DOMAIN_HEADER` header (default `domain`, as in `-H "domain: wso2.com"`); no list allows every domain.
 * The header may carry a bare domain (`wso2.com`) or an origin (`https://wso2.com:443`); the comparison is on
 * the lower-cased host name.
 */
export type DomainCheck =
  | { ok: true }
  | { ok: false; reason: "domain_header_missing" | "domain_not_allowed" };

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

export function checkDomain(allowedDomains: readonly string[], headerValue: string | null): DomainCheck {
  if (allowedDomains.length === 0) return { ok: true };
  const domain = requestDomain(headerValue);
  if (domain === null) return { ok: false, reason: "domain_header_missing" };
  return allowedDomains.includes(domain) ? { ok: true } : { ok: false, reason: "domain_not_allowed" };
}
