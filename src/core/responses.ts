/** RFC 6749 §5.1: token-bearing responses must not be cached (`no-store`; `Pragma` for HTTP/1.0 caches). */
export const NO_STORE: Record<string, string> = { "Cache-Control": "no-store", Pragma: "no-cache" };

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json;charset=UTF-8", ...headers },
  });
}
