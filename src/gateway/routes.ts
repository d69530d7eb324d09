import type { GatewayApi } from "../cache/facts";

export interface ApiMatch {
  api: GatewayApi;
  /** The rest of the path after `/{context}/{version}`: empty or starting with `/`. */
  remainder: string;
}

/**
 * The API a request path invokes: the one whose `/{context}/{version}` is the longest whole-segment prefix of
 * the path (`/twitter/1.0.0` matches `/twitter/1.0.0` and `/twitter/1.0.0/search.atom`, not `/twitter/1.0.01`).
 */
export function matchApi(apis: readonly GatewayApi[], pathname: string): ApiMatch | null {
  let best: ApiMatch | null = null;
  let bestLength = -1;
  for (const api of apis) {
    const prefix = `${api.context}/${api.version}`;
    if (prefix.length <= bestLength) continue;
    if (pathname === prefix || pathname.startsWith(`${prefix}/`)) {
      best = { api, remainder: pathname.slice(prefix.length) };
      bestLength = prefix.length;
    }
  }
  return best;
}

/** The backend URL of a call: the endpoint, the path remainder and the query, as received. */
export function backendUrl(endpoint: string, remainder: string, search: string): URL {
  const target = new URL(endpoint);
  target.pathname = `${target.pathname.replace(/\/+$/, "")}${remainder}`;
  target.search = search;
  return target;
}
