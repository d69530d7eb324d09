import { createRoute, z } from "@hono/zod-openapi";
import { jsonObjectBody } from "../admin-app";
import { errors, IdParam, jsonBody, jsonResponse, NoContent, text } from "./fields";
import { tierName } from "./tiers";

export const Subscription = z
  .object({
    id: z.string(),
    applicationId: z.string(),
    apiId: z.string(),
    tier: z.string().openapi({ example: "Unlimited" }),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Subscription");

export const NewSubscription = z
  .object({
    applicationId: text("applicationId", 100),
    apiId: text("apiId", 100),
    tier: tierName("tier").nullish().openapi({ description: "A tier of /admin/tiers; default Unlimited" }),
  })
  .openapi("NewSubscription");

const TierChange = z.object({ tier: tierName("tier") }).openapi("TierChange");

const tags = ["subscriptions"];

export const createSubscription = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Subscribe an application to an API",
  middleware: [jsonObjectBody] as const,
  request: { body: jsonBody(NewSubscription) },
  responses: { 201: jsonResponse(Subscription, "The subscription"), ...errors(400, 404, 409, 413, 415) },
});

export const listSubscriptions = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List subscriptions, optionally of one application or one API",
  request: {
    query: z.object({ applicationId: z.string().optional(), apiId: z.string().optional() }),
  },
  responses: { 200: jsonResponse(z.array(Subscription), "The subscriptions"), ...errors() },
});

export const getSubscription = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Read a subscription",
  request: { params: IdParam },
  responses: { 200: jsonResponse(Subscription, "The subscription"), ...errors(404) },
});

/** PUT and PATCH alike: the tier changes. */
export const updateSubscription = (method: "put" | "patch") =>
  createRoute({
    method,
    path: "/{id}",
    tags,
    summary: "Change a subscription's tier",
    middleware: [jsonObjectBody] as const,
    request: { params: IdParam, body: jsonBody(TierChange) },
    responses: { 200: jsonResponse(Subscription, "The subscription"), ...errors(400, 404, 413, 415) },
  });

export const deleteSubscription = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Unsubscribe",
  request: { params: IdParam },
  responses: { 204: NoContent, ...errors(404) },
});
