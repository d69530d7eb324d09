import type { AuthorizedCall } from "./authorize";

/** Prefix of the headers that tell a backend who calls; any the client sent are removed first. */
export const IDENTITY_HEADER_PREFIX = "x-ekm-";

/**
 * The caller's identity as the backend receives it (documented in the README), so a backend need not call
 * back to validate the token. Values are printable ASCII; other characters (and `%`) are percent-encoded as
 * UTF-8, so `decodeURIComponent` of any value gives the original text.
 */
export function identityHeaders(call: AuthorizedCall): Record<string, string> {
  return {
    "X-Ekm-Api-Id": call.api.id,
    "X-Ekm-Api-Name": headerText(call.api.name),
    "X-Ekm-Api-Version": call.api.version,
    "X-Ekm-Application-Id": call.key.applicationId,
    "X-Ekm-Application-Name": headerText(call.key.applicationName),
    "X-Ekm-Application-Owner": headerText(call.key.owner),
    "X-Ekm-Consumer-Key": call.key.consumerKey,
    "X-Ekm-Key-Type": call.key.keyType,
    "X-Ekm-End-User": headerText(call.token.user),
    "X-Ekm-User-Type": call.token.isApplicationToken ? "APPLICATION" : "APPLICATION_USER",
    "X-Ekm-Scope": headerText(call.token.scope),
    "X-Ekm-Subscription-Tier": headerText(call.tier),
  };
}

function headerText(value: string): string {
  return value.replace(/[^\x20-\x24\x26-\x7e]+/g, (run) => encodeURIComponent(run));
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those the runtime sets itself: never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  // Answered hop by hop (curl sends it for large uploads); the runtime's own fetch does its own.
  "expect",
]);

export interface OutgoingHeaderOptions {
  incoming: Headers;
  identity: Record<string, string>;
  /** Further names the client may not send (the X-JWT-Assertion header, even when none is generated). */
  reserved?: readonly string[];
  removeAuthorization: boolean;
  /** The URL the client called, for X-Forwarded-Host / -Proto. */
  requestUrl: URL;
}

/**
 * The headers sent to the backend: the client's, minus hop-by-hop ones (and those the Connection header
 * names), minus Authorization unless `REMOVE_OAUTH_HEADERS_FROM_OUT_MESSAGE` is false, minus any `X-Ekm-*`
 * the client sent and Cloudflare's own `cf-*`; plus the identity headers and X-Forwarded-*. A client header
 * whose name equals one of ours once `_` is read as `-` is dropped too: servers that map both to one name
 * (CGI's `HTTP_X_JWT_ASSERTION`, WSGI, some proxies) would otherwise see the client's value as ours.
 */
export function outgoingHeaders(options: OutgoingHeaderOptions): Headers {
  const { incoming } = options;
  const named = new Set(
    (incoming.get("connection") ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const ours = new Set(
    [...Object.keys(options.identity), ...(options.reserved ?? [])].map((name) => spelled(name)),
  );
  const headers = new Headers();
  for (const [name, value] of incoming) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    const normal = spelled(lower);
    if (normal.startsWith(IDENTITY_HEADER_PREFIX) || ours.has(normal) || lower.startsWith("cf-")) continue;
    if (lower === "authorization" && options.removeAuthorization) continue;
    if (lower === "x-forwarded-host" || lower === "x-forwarded-proto") continue;
    headers.append(name, value);
  }
  const clientIp = incoming.get("cf-connecting-ip");
  if (clientIp) {
    const before = incoming.get("x-forwarded-for");
    headers.set("X-Forwarded-For", before ? `${before}, ${clientIp}` : clientIp);
  }
  headers.set("X-Forwarded-Host", options.requestUrl.host);
  headers.set("X-Forwarded-Proto", options.requestUrl.protocol.replace(/:$/, ""));
  for (const [name, value] of Object.entries(options.identity)) headers.set(name, value);
  return headers;
}

/** A header name as servers that do not tell `_` from `-` read it. */
function spelled(name: string): string {
  return name.toLowerCase().replaceAll("_", "-");
}
