import { InputError } from "../errors/input-error";

/**
 * The input rules for applications and their keys, in one place for every way in (the admin API's JSON and
 * the developer portal's forms). Each takes the raw value and the name to call it by in a message, and either
 * returns the clean value or throws an InputError a developer can act on.
 */

export const MAX_NAME_LENGTH = 100;
/** Ten years, either way (a negative validity means "never expires"). */
export const MAX_VALIDITY = 10 * 365 * 24 * 3600;
const MAX_DOMAINS = 100;
const MAX_URL_LENGTH = 2000;

/** A host name label (RFC 1123 §2.1): letters, digits and inner hyphens, at most 63 characters. */
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
/** An allowed domain: a host name, or `*.` and a host name for every subdomain (README "Gateway"). */
const DOMAIN = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

const quoted = (value: string) => `"${value.length > 60 ? `${value.slice(0, 60)}…` : value}"`;

/** An application's name: 1 to 100 characters once trimmed. */
export function applicationName(value: unknown, name: string): string {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) {
    throw new InputError(`${name} is required: give the application a name.`);
  }
  if (typeof value !== "string") throw new InputError(`${name} must be a string.`);
  const trimmed = value.trim();
  if (trimmed.length > MAX_NAME_LENGTH) {
    throw new InputError(
      `${name} is too long: at most ${MAX_NAME_LENGTH} characters, and this one has ${trimmed.length}.`,
    );
  }
  return trimmed;
}

/**
 * An access-token validity in seconds (a number, or its digits as text); negative means "never expires".
 * Absent (undefined, or blank text) gives undefined.
 */
export function tokenValidity(value: unknown, name: string): number | undefined {
  if (value === undefined || (typeof value === "string" && value.trim() === "")) return undefined;
  const number = typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number)) {
    const shown = typeof value === "string" ? `${quoted(value)} is not` : "that is not";
    throw new InputError(
      `${name} must be a whole number of seconds, such as 3600 (a negative number means the token never expires); ${shown}.`,
    );
  }
  if (number < -MAX_VALIDITY || number > MAX_VALIDITY) {
    throw new InputError(`${name} must be from ${-MAX_VALIDITY} to ${MAX_VALIDITY} seconds (ten years).`);
  }
  return number;
}

/**
 * Allowed domains (WSO2 "Allowed Domains"): a list, or one text with commas between the entries. Each entry is
 * a host name (`example.com`, `localhost`, `10.0.0.1`) or a wildcard for its subdomains (`*.example.com`), in
 * any letter case; no scheme, port, path or spaces. An empty list, or WSO2's `All`, allows every domain.
 */
export function allowedDomainList(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(items) || items.some((item) => typeof item !== "string")) {
    throw new InputError(`${name} must be a list of domain names.`);
  }
  const entries = (items as string[]).map((item) => item.trim()).filter((item) => item !== "");
  if (entries.length > MAX_DOMAINS) throw new InputError(`${name} may have at most ${MAX_DOMAINS} entries.`);
  if (entries.some((entry) => entry.toLowerCase() === "all")) return [];
  for (const entry of entries) {
    const lower = entry.toLowerCase();
    if (DOMAIN.test(lower) && lower.length <= 253) continue;
    const why = /\s/.test(entry)
      ? "has a space in it (separate domains with commas)"
      : /^[a-z][a-z0-9+.-]*:/i.test(entry) || entry.includes("/")
        ? "is not a bare domain name (leave out the scheme, such as https://, and any path)"
        : "is not a domain name";
    throw new InputError(
      `${name}: ${quoted(entry)} ${why}. Give host names such as example.com or *.example.com, separated by commas.`,
    );
  }
  return entries.map((entry) => entry.toLowerCase());
}

function absoluteUrl(value: string, name: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new InputError(`${name} must be an absolute URL, such as https://app.example.com/callback.`);
  }
}

/** A registered redirect URI: absolute, no fragment (RFC 6749 §3.1.2); private-use schemes allowed (RFC 8252). */
export function callbackUrl(value: string, name: string): string {
  if (value.length > MAX_URL_LENGTH)
    throw new InputError(`${name} must be at most ${MAX_URL_LENGTH} characters.`);
  const url = absoluteUrl(value, name);
  if (["javascript:", "data:", "vbscript:", "file:"].includes(url.protocol))
    throw new InputError(`${name} has a forbidden scheme`);
  if (url.hash || value.includes("#")) throw new InputError(`${name} must not have a fragment`);
  return value;
}
