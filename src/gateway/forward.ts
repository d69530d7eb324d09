import { GatewayError } from "../errors/gateway-error";

/** How long the gateway waits for a backend's response headers (the body then streams without limit). */
export const BACKEND_HEADERS_TIMEOUT_MS = 60_000;

export interface ForwardOptions {
  target: URL;
  method: string;
  headers: Headers;
  /** The client's body stream, passed through unread (never buffered). */
  body: ReadableStream<Uint8Array> | null;
  timeoutMs?: number;
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * Sends the call to the backend and returns its response as it comes: status, headers and a streamed body.
 * Redirects are passed to the client, not followed. No answer in time → 504; unreachable → 502.
 */
export async function forwardToBackend(options: ForwardOptions): Promise<Response> {
  const { target, method, headers } = options;
  const timeoutMs = options.timeoutMs ?? BACKEND_HEADERS_TIMEOUT_MS;
  const withBody = method !== "GET" && method !== "HEAD" && options.body !== null;
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, timeoutMs);
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method,
      headers,
      body: withBody ? options.body : null,
      redirect: "manual",
      signal: abort.signal,
    });
  } catch (error) {
    if (timedOut) {
      throw new GatewayError("gateway_timeout", `the backend did not answer within ${timeoutMs / 1000} s`);
    }
    console.error(`backend ${target.origin} unreachable:`, error instanceof Error ? error.message : error);
    throw new GatewayError("bad_gateway", "the backend could not be reached");
  } finally {
    clearTimeout(timer);
  }
  if (upstream.status < 200 || upstream.status > 599) {
    // Interim (1xx) answers are hop by hop; a final one never came.
    await upstream.body?.cancel();
    throw new GatewayError("bad_gateway", `the backend answered with status ${upstream.status}`);
  }
  return new Response(NULL_BODY_STATUSES.has(upstream.status) ? null : upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: upstream.headers,
  });
}
