import type { ClientCredentials } from "../core/client-credentials";
import { requestSource } from "../core/request-source";
import { isConsumerKey } from "../core/token-format";
import { fromBase64, strictUtf8 } from "../crypto/encoding";
import { invalidClient, OAuthError } from "../errors/oauth-error";
import type { FormParams } from "./form";

function formDecode(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    throw invalidClient("Basic credentials are not form-urlencoded");
  }
}

/**
 * Decodes `Authorization: Basic ...`. Tolerates what the WSO2 documents' curl lines send: a trailing comma
 * (`Basic abc=,`) and further text glued on after a comma (`Basic abc=, Content-Type: ...`).
 */
function parseBasic(header: string): { clientId: string; clientSecret: string } | null {
  const match = /^\s*basic\s+([^\s,]*)/i.exec(header);
  if (!match) return null;
  const encoded = match[1] ?? "";
  let decoded: string;
  try {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new Error("not base64");
    decoded = strictUtf8.decode(fromBase64(encoded));
  } catch {
    throw invalidClient("the Basic credentials are not valid base64");
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) throw invalidClient("the Basic credentials must be client_id:client_secret");
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64 by conforming clients.
  return {
    clientId: formDecode(decoded.slice(0, colon)),
    clientSecret: formDecode(decoded.slice(colon + 1)),
  };
}

/**
 * Reads the client's credentials from a request. Throws `invalid_client` (401) for a malformed Basic header,
 * `invalid_request` for two methods at once (RFC 6749 §2.3: "MUST NOT use more than one"), and
 * `invalid_client` when no client is named at all.
 */
export function readClientCredentials(headers: Headers, params: FormParams): ClientCredentials {
  const authorization = headers.get("authorization");
  const bodyId = params.get("client_id");
  const bodySecret = params.get("client_secret");
  let credentials: ClientCredentials | null = null;
  if (authorization && /^\s*basic(\s|$)/i.test(authorization)) {
    const basic = parseBasic(authorization);
    if (!basic) throw invalidClient("the Basic credentials are empty");
    if (bodySecret !== undefined) {
      throw new OAuthError(
        "invalid_request",
        "the client authenticated with both HTTP Basic and client_secret",
      );
    }
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new OAuthError("invalid_request", "client_id in the body differs from the HTTP Basic client");
    }
    credentials = { ...basic, method: "client_secret_basic" };
  } else if (bodyId !== undefined) {
    credentials = {
      clientId: bodyId,
      clientSecret: bodySecret ?? null,
      method: bodySecret ? "client_secret_post" : "none",
    };
  } else if (bodySecret !== undefined) {
    throw new OAuthError("invalid_request", "client_secret was sent without client_id");
  }
  if (!credentials)
    throw invalidClient("client authentication is required (HTTP Basic or client_id/client_secret)");
  if (!isConsumerKey(credentials.clientId)) throw invalidClient("unknown client");
  return { ...credentials, source: requestSource(headers) };
}
