import { AdminError } from "../errors/admin-error";

const MAX_JSON_BYTES = 64 * 1024;

export type JsonObject = Record<string, unknown>;

/** Reads a JSON object body: 415 for another media type, 413 when too large, 400 when not an object. */
export async function readJson(request: Request): Promise<JsonObject> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json")
    throw new AdminError(415, "unsupported_media_type", "send Content-Type: application/json");
  const text = await request.text();
  if (text.length > MAX_JSON_BYTES)
    throw new AdminError(413, "too_large", `the body exceeds ${MAX_JSON_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AdminError(400, "invalid_json", "the body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AdminError(400, "invalid_request", "the body must be a JSON object");
  }
  return body as JsonObject;
}

const invalid = (message: string) => new AdminError(400, "invalid_request", message);

export function requiredString(body: JsonObject, name: string, max = 200): string {
  const value = optionalString(body, name, max);
  if (value === undefined) throw invalid(`${name} is required`);
  return value;
}

export function optionalString(body: JsonObject, name: string, max = 200): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.trim() === "") throw invalid(`${name} must be a non-empty string`);
  if (value.length > max) throw invalid(`${name} must be at most ${max} characters`);
  return value.trim();
}

export function optionalInteger(
  body: JsonObject,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < min || number > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}`);
  }
  return number;
}

export function optionalBoolean(body: JsonObject, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalid(`${name} must be true or false`);
  return value;
}

/** A list given as a JSON array or a comma-separated string (as WSO2's Store form takes allowed domains). */
export function optionalStringList(body: JsonObject, name: string): string[] | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  const items = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(items) || items.some((item) => typeof item !== "string")) {
    throw invalid(`${name} must be an array of strings`);
  }
  const cleaned = (items as string[]).map((item) => item.trim()).filter((item) => item !== "");
  if (cleaned.length > 100) throw invalid(`${name} may have at most 100 entries`);
  return cleaned;
}

function absoluteUrl(value: string, name: string): URL {
  try {
    return new URL(value);
  } catch {
    throw invalid(`${name} must be an absolute URL`);
  }
}

export function httpUrl(value: string, name: string): string {
  const url = absoluteUrl(value, name);
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw invalid(`${name} must be an http or https URL`);
  if (url.hash) throw invalid(`${name} must not have a fragment`);
  return value;
}

/** A registered redirect URI: absolute, no fragment (RFC 6749 §3.1.2); private-use schemes allowed (RFC 8252). */
export function callbackUrl(value: string, name: string): string {
  const url = absoluteUrl(value, name);
  if (["javascript:", "data:", "vbscript:", "file:"].includes(url.protocol))
    throw invalid(`${name} has a forbidden scheme`);
  if (url.hash || value.includes("#")) throw invalid(`${name} must not have a fragment`);
  return value;
}
