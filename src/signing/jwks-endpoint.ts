import type { Context } from "hono";
import { jsonResponse } from "../core/responses";
import { signingKeysStub } from "../durable/names";
import { JWKS_MAX_AGE_SECONDS } from "../durable/signing/protocol";
import { OAuthError } from "../errors/oauth-error";

export const JWKS_PATH = "/.well-known/jwks.json";

/** `GET /.well-known/jwks.json` (RFC 7517 §5): the public halves of every published signing key. */
export async function jwksEndpoint(c: Context<{ Bindings: Env }>): Promise<Response> {
  let keys: unknown[];
  try {
    keys = await signingKeysStub(c.env).publicKeys();
  } catch (error) {
    console.error("signing keys unavailable:", error instanceof Error ? error.message : error);
    throw new OAuthError("temporarily_unavailable", "the signing keys are not available; try again later", {
      headers: { "Retry-After": "5" },
    });
  }
  return jsonResponse({ keys }, 200, {
    "Content-Type": "application/jwk-set+json",
    "Cache-Control": `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
    "Access-Control-Allow-Origin": "*",
  });
}
