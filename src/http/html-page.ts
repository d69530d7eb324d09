import { randomSecret } from "../crypto/secrets";

export interface PageOptions {
  status?: number;
  /**
   * Where the page's forms may lead (CSP form-action), besides this origin. Chromium applies form-action to
   * the redirects that follow a form submission, so the consent page lists the client's redirect URI.
   */
  formTargets?: string[];
  headers?: Record<string, string>;
  /**
   * `no-referrer` unless said. A page whose forms are checked by `Origin` needs `same-origin`: under
   * `no-referrer` a browser sends `Origin: null` even on a same-origin form POST (the Fetch Standard's "append a
   * request Origin header" step).
   */
  referrerPolicy?: "no-referrer" | "same-origin";
  /** `Set-Cookie` values, each its own header. */
  cookies?: string[];
}

/** A CSP source for a redirect URI: its origin for http(s), its scheme for a private-use one (RFC 8252 §7.1). */
export function cspSource(uri: string): string | null {
  try {
    const url = new URL(uri);
    if (url.protocol === "http:" || url.protocol === "https:") return url.origin;
    return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) ? url.protocol : null;
  } catch {
    return null;
  }
}

/**
 * Renders a page: `<!doctype html>` plus the element `build` returns for a fresh CSP nonce, with headers
 * that keep it out of caches and frames (RFC 6749 §10.13 clickjacking) and the referrer out of requests.
 */
export async function renderPage(
  build: (nonce: string) => unknown,
  options: PageOptions = {},
): Promise<Response> {
  const nonce = randomSecret(16);
  const node = build(nonce) as { toString(): string | Promise<string> };
  const body = `<!doctype html>${await node.toString()}`;
  const formAction = ["'self'", ...(options.formTargets ?? [])].join(" ");
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
  const response = new Response(body, {
    status: options.status ?? 200,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      Pragma: "no-cache",
      "Content-Security-Policy": csp,
      "X-Frame-Options": "DENY",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": options.referrerPolicy ?? "no-referrer",
      ...options.headers,
    },
  });
  for (const cookie of options.cookies ?? []) response.headers.append("Set-Cookie", cookie);
  return response;
}
