import { importJWK, type JWK } from "jose";
import { registryStub } from "../durable/names";
import { AdminError } from "../errors/admin-error";
import { adminRouter } from "./admin-app";
import { unwrap } from "./registry-result";
import {
  createTrustedIssuer,
  deleteTrustedIssuer,
  getTrustedIssuer,
  listTrustedIssuers,
} from "./schemas/trusted-issuers";

/** Each key of an inline JWKS must import with its algorithm (default by key type). */
async function usableKeys(keys: JWK[]): Promise<JsonWebKey[]> {
  for (const [i, jwk] of keys.entries()) {
    try {
      await importJWK(jwk, jwk.alg ?? (jwk.kty === "EC" ? "ES256" : jwk.kty === "RSA" ? "RS256" : "EdDSA"));
    } catch (error) {
      throw new AdminError(
        400,
        "invalid_request",
        `jwks.keys[${i}] is not a usable key: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
  return keys as JsonWebKey[];
}

/** `/admin/trusted-issuers`: who may sign assertions for the jwt-bearer grant (RFC 7523), and with which keys. */
export const trustedIssuerRoutes = adminRouter()
  .openapi(createTrustedIssuer, async (c) => {
    const body = c.req.valid("json");
    const created = unwrap(
      await registryStub(c.env).createTrustedIssuer({
        issuer: body.issuer,
        jwksUri: body.jwksUri ?? null,
        jwks: body.jwks ? { keys: await usableKeys(body.jwks.keys as JWK[]) } : null,
        audience: body.audience ?? null,
      }),
    );
    return c.json(created, 201, { Location: `/admin/trusted-issuers/${created.id}` });
  })
  .openapi(listTrustedIssuers, async (c) => c.json(await registryStub(c.env).listTrustedIssuers(), 200))
  .openapi(getTrustedIssuer, async (c) =>
    c.json(unwrap(await registryStub(c.env).getTrustedIssuer(c.req.valid("param").id)), 200),
  )
  .openapi(deleteTrustedIssuer, async (c) => {
    unwrap(await registryStub(c.env).deleteTrustedIssuer(c.req.valid("param").id));
    return c.body(null, 204);
  });
