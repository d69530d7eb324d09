import { createRoute, z } from "@hono/zod-openapi";
import { MAX_SHARDS } from "../../core/token-format";
import { allowedDomainList, applicationName, MAX_VALIDITY } from "../../services/application-rules";
import { jsonObjectBody, optionalJsonObjectBody } from "../admin-app";
import {
  callbackUrl,
  errors,
  IdParam,
  integer,
  jsonBody,
  jsonResponse,
  NoContent,
  optionalBoolean,
  optionalText,
  ruled,
  stringList,
  text,
} from "./fields";
import { tierName } from "./tiers";

const Keys = z
  .object({
    consumerKey: z.string(),
    consumerSecret: z.string().optional().openapi({ description: "Only when created or regenerated" }),
  })
  .openapi("ApplicationKeys");

export const Application = z
  .object({
    id: z.string(),
    name: z.string(),
    owner: z.string().openapi({ example: "alice@carbon.super" }),
    accessTokenValidity: z.number().int().nullable().openapi({ description: "Seconds; null: the default" }),
    accessTokenFormat: z.enum(["opaque", "JWT"]),
    allowedDomains: z.array(z.string()),
    callbackUrl: z.string().nullable(),
    callbackUrls: z.array(z.string()),
    implicitEnabled: z.boolean(),
    shards: z.number().int(),
    tier: z.string(),
    createdAt: z.string().openapi({ format: "date-time" }),
    keys: z
      .object({ PRODUCTION: Keys.optional(), SANDBOX: Keys.optional() })
      .openapi({ description: "The keys generated so far (a portal-made application has none at first)" }),
  })
  .openapi("Application");

/** The fields an application is created with and changed by. */
const settings = {
  accessTokenValidity: integer("accessTokenValidity", -MAX_VALIDITY, MAX_VALIDITY)
    .nullish()
    .openapi({ description: "Seconds (negative: never expires); null: the default validity" }),
  validityPeriod: integer("validityPeriod", -MAX_VALIDITY, MAX_VALIDITY)
    .nullish()
    .openapi({ description: "WSO2's name for accessTokenValidity" }),
  accessTokenFormat: z
    .string({ error: 'accessTokenFormat must be "opaque" or "JWT"' })
    .trim()
    .toLowerCase()
    .pipe(z.enum(["opaque", "jwt"], { error: 'accessTokenFormat must be "opaque" or "JWT"' }))
    .transform((format) => (format === "jwt" ? ("JWT" as const) : ("opaque" as const)))
    .nullish()
    .openapi({ type: "string", enum: ["opaque", "JWT"], description: "Any letter case; default opaque" }),
  allowedDomains: ruled((value) => allowedDomainList(value, "allowedDomains"))
    .nullish()
    .openapi({
      type: "array",
      items: { type: "string" },
      maxItems: 100,
      description:
        'Host names (example.com) or *.wildcards the key may be used from, as a list or a comma-separated string; empty or "All": any',
    }),
  callbackUrl: text("callbackUrl", 2000)
    .pipe(callbackUrl("callbackUrl"))
    .nullish()
    .openapi({ format: "uri" }),
  callbackUrls: stringList("callbackUrls")
    .pipe(z.array(callbackUrl("callbackUrls[]")))
    .nullish()
    .openapi({ type: "array", items: { type: "string", format: "uri" }, maxItems: 100 }),
  implicitEnabled: optionalBoolean("implicitEnabled").openapi({ description: "default true" }),
  tier: tierName("tier")
    .nullish()
    .openapi({ description: "Application-level throttling tier; default Unlimited" }),
};

export const NewApplication = z
  .object({
    name: ruled((value) => applicationName(value, "name")).openapi({ type: "string", maxLength: 100 }),
    owner: text("owner", 150).openapi({ description: "A user name: alice means alice@carbon.super" }),
    ...settings,
    shards: integer("shards", 1, MAX_SHARDS).nullish().openapi({ description: "default 16" }),
  })
  .openapi("NewApplication");

export const ApplicationChanges = z
  .object({
    name: ruled((value) => applicationName(value, "name"))
      .optional()
      .openapi({ type: "string", maxLength: 100 }),
    ...settings,
    owner: z.unknown().optional().openapi({
      description: "Cannot be changed: accepted only as the application's own (as GET shows it)",
    }),
    shards: z.unknown().optional().openapi({
      description: "Cannot be changed: accepted only as the application's own (as GET shows it)",
    }),
  })
  .openapi("ApplicationChanges");

const KeyParams = IdParam.extend({
  keyType: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(["PRODUCTION", "SANDBOX"], { error: "key type is PRODUCTION or SANDBOX" }))
    .openapi({ param: { name: "keyType", in: "path" }, type: "string", enum: ["PRODUCTION", "SANDBOX"] }),
});

const TokenScope = z
  .object({ scope: optionalText("scope", 1000).openapi({ description: "Space-separated scopes" }) })
  .openapi("TokenScope");

const Token = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    scope: z.string(),
  })
  .openapi("ApplicationToken");

const tags = ["applications"];

export const createApplication = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create an application with PRODUCTION and SANDBOX keys (the secrets are shown only here)",
  middleware: [jsonObjectBody] as const,
  request: { body: jsonBody(NewApplication) },
  responses: {
    201: jsonResponse(Application, "The application and its keys"),
    ...errors(400, 409, 413, 415),
  },
});

export const listApplications = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List the applications",
  request: { query: z.object({ owner: z.string().optional().openapi({ example: "alice" }) }) },
  responses: { 200: jsonResponse(z.array(Application), "The applications (no secrets)"), ...errors() },
});

export const getApplication = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Read an application (no secrets)",
  request: { params: IdParam },
  responses: { 200: jsonResponse(Application, "The application"), ...errors(404) },
});

/** PUT and PATCH alike: the fields given change, the others stay. */
export const updateApplication = (method: "put" | "patch") =>
  createRoute({
    method,
    path: "/{id}",
    tags,
    summary: "Change an application (name, validity, token format, domains, callback URLs, implicit)",
    middleware: [jsonObjectBody] as const,
    request: { params: IdParam, body: jsonBody(ApplicationChanges) },
    responses: { 200: jsonResponse(Application, "The application"), ...errors(400, 404, 413, 415) },
  });

export const deleteApplication = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete an application (revokes every token)",
  request: { params: IdParam },
  responses: { 204: NoContent, ...errors(404) },
});

export const regenerateSecret = createRoute({
  method: "post",
  path: "/{id}/keys/{keyType}/regenerate-secret",
  tags,
  summary: "New consumer secret; tokens under the old one are revoked",
  request: { params: KeyParams },
  responses: { 200: jsonResponse(Keys, "The key with its new secret"), ...errors(404) },
});

export const regenerateToken = createRoute({
  method: "post",
  path: "/{id}/keys/{keyType}/regenerate-token",
  tags,
  summary: "New application token; the key's previous application tokens are revoked",
  middleware: [optionalJsonObjectBody] as const,
  request: {
    params: KeyParams,
    body: { required: false, content: { "application/json": { schema: TokenScope } } },
  },
  responses: { 200: jsonResponse(Token, "The token (RFC 6749 §5.1)"), ...errors(400, 404, 413, 415) },
});

const CounterUsage = z.object({
  tier: z.string(),
  unitTime: z.number().int().nullable(),
  windowStart: z.number().int().nullable().openapi({ description: "Epoch ms; null: no window open" }),
  windowEnd: z.number().int().nullable(),
  used: z.number().int().openapi({ description: "Permits granted in the window (spent, or about to be)" }),
  leases: z.number().int().openapi({ description: "Lease calls that reached the counter in the window" }),
});

const Usage = z
  .object({
    application: CounterUsage,
    subscriptions: z.array(CounterUsage.extend({ apiId: z.string() })),
  })
  .openapi("ApplicationUsage");

export const applicationUsage = createRoute({
  method: "get",
  path: "/{id}/usage",
  tags,
  summary:
    "The application's throttling counters: its own tier's and each subscription's (README \"Throttling\")",
  request: { params: IdParam },
  responses: { 200: jsonResponse(Usage, "The counters"), ...errors(404) },
});
