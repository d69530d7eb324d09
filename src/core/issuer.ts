import type { Config } from "./config";

/**
 * The issuer identifier (RFC 8414 §2; README "Configuration" `ISSUER`): the configured origin when `ISSUER` is
 * set, else the origin the request reached. Everything that names the issuer uses this one function: the
 * metadata, `iss` of JWT access tokens and of X-JWT-Assertion, the `iss` authorization response parameter
 * (RFC 9207), and the audiences a jwt-bearer assertion may name. Pinning it stops a `Host` header from choosing
 * what the service calls itself.
 */
export function issuerOf(config: Pick<Config, "issuer">, request: Request): string {
  return config.issuer ?? new URL(request.url).origin;
}

/**
 * Reads `ISSUER`: an origin (scheme, host, optional port; a trailing `/` is tolerated), else an error naming
 * the setting. `production` (ENVIRONMENT) requires it, over https (RFC 8414 §2: the issuer uses https).
 */
export function readIssuer(raw: unknown, environment: string): string | null {
  const text = String(raw ?? "").trim();
  if (text === "") {
    if (environment === "production") {
      throw new Error(
        "config ISSUER must be set when ENVIRONMENT is production: the origin clients reach the service at, e.g. https://keys.example.com (README Deploying)",
      );
    }
    return null;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`config ISSUER must be an origin such as https://keys.example.com, not ${text}`);
  }
  const originOnly = text.replace(/\/$/, "") === url.origin;
  if ((url.protocol !== "https:" && url.protocol !== "http:") || !originOnly) {
    throw new Error(
      `config ISSUER must be an origin (scheme, host and port only) such as https://keys.example.com, not ${text}`,
    );
  }
  if (environment === "production" && url.protocol !== "https:") {
    throw new Error("config ISSUER must use https when ENVIRONMENT is production (RFC 8414 §2)");
  }
  return url.origin;
}
