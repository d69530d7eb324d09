/**
 * Where a request comes from, for throttling failed authentications per source (README "Lock-out and
 * throttling"): Cloudflare's `CF-Connecting-IP`, which Cloudflare sets and a client cannot forge there. Without
 * it (a local run behind nothing) every request counts as the one source `unknown`.
 */
export const UNKNOWN_SOURCE = "unknown";

export function requestSource(headers: Headers): string {
  const ip = headers.get("cf-connecting-ip")?.trim();
  return ip && ip.length <= 64 ? ip.toLowerCase() : UNKNOWN_SOURCE;
}
