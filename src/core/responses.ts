/** RFC 6749 §5.1 and the seeds: token-bearing responses must not be cached. */
export const NO_STORE: Record<string, string> = { "Cache-Control": "no-store", Pragma: "no-cache" };

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json;charset=UTF-8", ...headers },
  });
}
