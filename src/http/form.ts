import { strictUtf8 } from "../crypto/encoding";
import { OAuthError } from "../errors/oauth-error";

/** Largest form body accepted on the OAuth endpoints; anything bigger is refused without being read whole. */
export const MAX_FORM_BYTES = 16 * 1024;

export type FormParams = Map<string, string>;

async function readLimited(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    throw new OAuthError("invalid_request", `request body exceeds ${limit} bytes`);
  }
  if (!request.body) return "";
  // A declared length within the limit bounds the body (HTTP framing): read it in one step.
  if (declared !== null) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > limit)
      throw new OAuthError("invalid_request", `request body exceeds ${limit} bytes`);
    return decodeUtf8(bytes);
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new OAuthError("invalid_request", `request body exceeds ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decodeUtf8(bytes);
}

/** A body that is not UTF-8 is refused, not repaired. */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new OAuthError("invalid_request", "request body is not valid UTF-8");
  }
}

/**
 * Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1).
 *
 * A request without a Content-Type is read as a form too: WSO2's documented curl lines pass `-H Content-Type: ...`
 * unquoted, which makes curl drop the header it would otherwise send. Any other media type is refused.
 * Parameters sent more than once are refused (RFC 6749 §3.1, §3.2), and so are empty-valued ones, which
 * RFC 6749 §3.1 says to treat as omitted.
 */
export async function readForm(request: Request): Promise<FormParams> {
  if (request.method !== "POST") {
    throw new OAuthError("invalid_request", "use POST", { status: 405, headers: { Allow: "POST" } });
  }
  const contentType = request.headers.get("content-type");
  if (contentType !== null && contentType.trim() !== "") {
    const mediaType = contentType.split(";")[0]?.trim().toLowerCase();
    if (mediaType !== "application/x-www-form-urlencoded") {
      throw new OAuthError(
        "invalid_request",
        `Content-Type must be application/x-www-form-urlencoded, not ${mediaType || "empty"}`,
      );
    }
  }
  const body = await readLimited(request, MAX_FORM_BYTES);
  const params: FormParams = new Map();
  const seen = new Set<string>();
  let decoded: URLSearchParams;
  try {
    decoded = new URLSearchParams(body);
  } catch {
    throw new OAuthError("invalid_request", "request body is not a valid form");
  }
  for (const [name, value] of decoded) {
    if (seen.has(name)) throw new OAuthError("invalid_request", `parameter ${name} is repeated`);
    seen.add(name);
    if (value !== "") params.set(name, value);
  }
  return params;
}

export function requireParam(params: FormParams, name: string): string {
  const value = params.get(name);
  if (value === undefined) throw new OAuthError("invalid_request", `missing parameter ${name}`);
  return value;
}
