import { Hono } from "hono";
import { importJWK, type JWK } from "jose";
import { registryStub } from "../durable/names";
import type { TrustedIssuerInput } from "../durable/registry/trusted-issuers";
import { AdminError, unwrap } from "../errors/admin-error";
import { httpUrl, type JsonObject, optionalString, readJson, requiredString } from "./input";

const invalid = (message: string) => new AdminError(400, "invalid_request", message);
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MAX_KEYS = 20;

/** An inline JWKS (RFC 7517 §5): public signature keys only, each one importable. */
async function publicJwks(value: unknown): Promise<{ keys: JsonWebKey[] }> {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (typeof value !== "object" || !Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) {
    throw invalid(`jwks must be a JWK Set: {"keys":[...]} with 1 to ${MAX_KEYS} keys`);
  }
  for (const [i, key] of keys.entries()) {
    if (typeof key !== "object" || key === null || Array.isArray(key))
      throw invalid(`jwks.keys[${i}] is not a JWK`);
    const jwk = key as JWK & Record<string, unknown>;
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
      throw invalid(`jwks.keys[${i}] has private or symmetric key members: publish public keys only`);
    }
    if (jwk.kty !== "EC" && jwk.kty !== "RSA" && jwk.kty !== "OKP") {
      throw invalid(`jwks.keys[${i}].kty must be EC, RSA or OKP`);
    }
    try {
      await importJWK(jwk, jwk.alg ?? (jwk.kty === "EC" ? "ES256" : jwk.kty === "RSA" ? "RS256" : "EdDSA"));
    } catch (error) {
      throw invalid(`jwks.keys[${i}] is not a usable key: ${error instanceof Error ? error.message : error}`);
    }
  }
  return { keys: keys as JsonWebKey[] };
}

async function trustedIssuer(body: JsonObject): Promise<TrustedIssuerInput> {
  const issuer = requiredString(body, "issuer", 500);
  const jwksUri = optionalString(body, "jwksUri", 2000);
  if ((jwksUri === undefined) === (body.jwks === undefined || body.jwks === null)) {
    throw invalid("give exactly one of jwksUri (fetched and cached) or jwks (inline public keys)");
  }
  return {
    issuer,
    jwksUri: jwksUri === undefined ? null : httpUrl(jwksUri, "jwksUri"),
    jwks: jwksUri === undefined ? await publicJwks(body.jwks) : null,
    audience: optionalString(body, "audience", 500) ?? null,
  };
}

/** `/admin/trusted-issuers`: who may sign assertions for the jwt-bearer grant (RFC 7523), and with which keys. */
export const trustedIssuerRoutes = new Hono<{ Bindings: Env }>()
  .post("/", async (c) => {
    const input = await trustedIssuer(await readJson(c.req.raw));
    const created = unwrap(await registryStub(c.env).createTrustedIssuer(input));
    return c.json(created, 201, { Location: `/admin/trusted-issuers/${created.id}` });
  })
  .get("/", async (c) => c.json(await registryStub(c.env).listTrustedIssuers()))
  .get("/:id", async (c) => c.json(unwrap(await registryStub(c.env).getTrustedIssuer(c.req.param("id")))))
  .delete("/:id", async (c) => {
    unwrap(await registryStub(c.env).deleteTrustedIssuer(c.req.param("id")));
    return c.body(null, 204);
  });
