/**
 * The gateway's CORS settings (WSO2's `CORSConfiguration`), parsed once with the rest of the config
 * (src/config.ts). A bad value is a start-up error with the setting's name in it, never a silent fallback:
 * a mistyped origin list must not quietly open (or close) every API to browsers.
 */
export interface CorsConfig {
  /** `*` (any origin), or serialized origins such as `https://app.example.com` (RFC 6454 §6.1). */
  allowedOrigins: OriginList;
  /** Request headers a page may send (lower-case), always including `authorization` and the domain header. */
  allowedHeaders: string[];
  /** Upper-case methods a page may use. */
  allowedMethods: string[];
}

export type OriginList = "*" | readonly string[];

export const DEFAULT_CORS_HEADERS = ["authorization", "content-type"];
export const DEFAULT_CORS_METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"];

/** RFC 9110 §5.6.2 `token`: header field names and methods. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * One origin as a browser serializes it in the `Origin` header: scheme, host and a non-default port, no path.
 * Returns the canonical (lower-case) form, or null when `value` is not such an origin.
 */
export function canonicalOrigin(value: string): string | null {
  const trimmed = value.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username || url.password || url.search || url.hash) return null;
  if (url.pathname !== "/" || /^[a-z][a-z0-9+.-]*:\/\/[^/]*\/./i.test(trimmed)) return null;
  return url.origin;
}

/** `*`, or a list of origins; throws naming `name` on anything else. An empty list allows no origin. */
export function parseOriginList(raw: unknown, name: string): OriginList {
  const items = typeof raw === "string" ? raw.split(",") : raw;
  if (!Array.isArray(items) || items.some((item) => typeof item !== "string")) {
    throw new Error(`${name} must be * or a list of origins such as https://app.example.com`);
  }
  const cleaned = (items as string[]).map((item) => item.trim()).filter((item) => item !== "");
  if (cleaned.includes("*")) {
    if (cleaned.length > 1) throw new Error(`${name}: * cannot be combined with other origins`);
    return "*";
  }
  return cleaned.map((item) => {
    const origin = canonicalOrigin(item);
    if (origin === null) {
      throw new Error(
        `${name}: "${item}" is not an origin (scheme://host[:port], no path), such as https://app.example.com`,
      );
    }
    return origin;
  });
}

function tokenList(raw: string, name: string, what: string): string[] {
  const items = raw
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  for (const item of items) {
    if (!TOKEN.test(item)) throw new Error(`${name}: "${item}" is not a valid ${what}`);
  }
  return items;
}

type Source = Partial<Record<string, unknown>>;

const text = (source: Source, name: string): string | null => {
  const raw = source[name];
  if (raw === undefined || raw === null) return null;
  const value = String(raw).trim();
  return value === "" ? null : value;
};

/** Reads CORS_ALLOWED_ORIGINS, CORS_ALLOWED_HEADERS and CORS_ALLOWED_METHODS (README "Calling an API from a web page"). */
export function readCorsConfig(source: Source, clientDomainHeader: string): CorsConfig {
  const origins = text(source, "CORS_ALLOWED_ORIGINS");
  const headers = text(source, "CORS_ALLOWED_HEADERS");
  const methods = text(source, "CORS_ALLOWED_METHODS");
  const allowedHeaders = new Set(
    (headers === null ? DEFAULT_CORS_HEADERS : tokenList(headers, "CORS_ALLOWED_HEADERS", "header name")).map(
      (header) => header.toLowerCase(),
    ),
  );
  // A browser call cannot work without these two: they are always allowed.
  allowedHeaders.add("authorization");
  allowedHeaders.add(clientDomainHeader.toLowerCase());
  return {
    allowedOrigins: origins === null ? "*" : parseOriginList(origins, "CORS_ALLOWED_ORIGINS"),
    allowedHeaders: [...allowedHeaders],
    allowedMethods:
      methods === null
        ? DEFAULT_CORS_METHODS
        : tokenList(methods, "CORS_ALLOWED_METHODS", "method").map((method) => method.toUpperCase()),
  };
}
