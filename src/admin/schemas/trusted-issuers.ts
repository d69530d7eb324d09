import { createRoute, z } from "@hono/zod-openapi";
import { jsonObjectBody } from "../admin-app";
import { errors, httpUrl, IdParam, jsonBody, jsonResponse, NoContent, optionalText, text } from "./fields";

const MAX_KEYS = 20;
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/** A public signature key (RFC 7517 §4); whether it imports is checked by the handler (src/admin/trusted-issuers.ts). */
const PublicJwk = z
  .looseObject({
    kty: z.enum(["EC", "RSA", "OKP"], { error: "kty must be EC, RSA or OKP" }),
    alg: z.string().optional(),
  })
  .superRefine((jwk, ctx) => {
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) {
      ctx.addIssue({
        code: "custom",
        message: "has private or symmetric key members: publish public keys only",
      });
    }
  })
  .openapi("PublicJwk");

/** An inline JWK Set (RFC 7517 §5). */
const Jwks = z
  .object(
    {
      keys: z
        .array(PublicJwk, { error: `jwks must be a JWK Set: {"keys":[...]} with 1 to ${MAX_KEYS} keys` })
        .min(1, { error: `jwks must be a JWK Set: {"keys":[...]} with 1 to ${MAX_KEYS} keys` })
        .max(MAX_KEYS, { error: `jwks must be a JWK Set: {"keys":[...]} with 1 to ${MAX_KEYS} keys` }),
    },
    { error: `jwks must be a JWK Set: {"keys":[...]} with 1 to ${MAX_KEYS} keys` },
  )
  .openapi("Jwks");

export const TrustedIssuer = z
  .object({
    id: z.string(),
    issuer: z.string(),
    jwksUri: z.string().nullable(),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).nullable(),
    audience: z.string().nullable(),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("TrustedIssuer");

export const NewTrustedIssuer = z
  .object({
    issuer: text("issuer", 500).openapi({ example: "https://idp.example.com" }),
    jwksUri: httpUrl("jwksUri").nullish().openapi({ description: "Fetched with a timeout and cached" }),
    jwks: Jwks.nullish().openapi({ description: "Inline public keys (instead of jwksUri)" }),
    audience: optionalText("audience", 500).openapi({
      description:
        "The aud an assertion must carry; default: the token endpoint URL or this service's issuer",
    }),
  })
  .superRefine((body, ctx) => {
    if ((body.jwksUri == null) === (body.jwks == null)) {
      ctx.addIssue({
        code: "custom",
        message: "give exactly one of jwksUri (fetched and cached) or jwks (inline public keys)",
      });
    }
  })
  .openapi("NewTrustedIssuer");

const tags = ["trusted issuers"];

export const createTrustedIssuer = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Trust an issuer's JWTs for the jwt-bearer grant (RFC 7523)",
  middleware: [jsonObjectBody] as const,
  request: { body: jsonBody(NewTrustedIssuer) },
  responses: { 201: jsonResponse(TrustedIssuer, "The trusted issuer"), ...errors(400, 409, 413, 415) },
});

export const listTrustedIssuers = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List the trusted issuers",
  responses: { 200: jsonResponse(z.array(TrustedIssuer), "Every trusted issuer"), ...errors() },
});

export const getTrustedIssuer = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Read a trusted issuer",
  request: { params: IdParam },
  responses: { 200: jsonResponse(TrustedIssuer, "The trusted issuer"), ...errors(404) },
});

export const deleteTrustedIssuer = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Stop trusting an issuer",
  request: { params: IdParam },
  responses: { 204: NoContent, ...errors(404) },
});
