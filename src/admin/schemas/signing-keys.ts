import { createRoute, z } from "@hono/zod-openapi";
import { errors, jsonResponse } from "./fields";

export const SigningKey = z
  .object({
    kid: z.string().openapi({ description: "RFC 7638 thumbprint" }),
    alg: z.string().openapi({ example: "ES256" }),
    state: z.enum(["next", "active", "retired"]),
    createdAt: z.string().openapi({ format: "date-time" }),
    activatedAt: z.string().nullable(),
    retiredAt: z.string().nullable(),
    publishedUntil: z.string().nullable().openapi({
      description: "When the key leaves the JWKS at the earliest: the latest exp it may have signed",
    }),
  })
  .openapi("SigningKey");

const SigningKeys = z.object({ keys: z.array(SigningKey) }).openapi("SigningKeys");

const tags = ["signing keys"];

export const listSigningKeys = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The signing keys' metadata (never key material)",
  responses: { 200: jsonResponse(SigningKeys, "Next, active and retired keys"), ...errors() },
});

export const rotateSigningKeys = createRoute({
  method: "post",
  path: "/rotate",
  tags,
  summary: "Make the next key active, retire the active one, generate a new next key",
  responses: { 200: jsonResponse(SigningKeys, "The keys after rotation"), ...errors() },
});
