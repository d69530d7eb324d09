import { createMiddleware } from "hono/factory";
import { gatewayMemory } from "../cache/gateway-memory";
import type { AppEnv } from "./app-env";

/**
 * After a request that may change the gateway's facts (the admin API, and any other route that changes what the
 * registry publishes), this isolate drops the facts it holds in memory, so the change applies to its very next
 * gateway call (README "Validation cache"); other isolates learn of it from the version key the registry rewrote.
 */
export const forgetGatewayFacts = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.req.method !== "GET" && c.req.method !== "HEAD") gatewayMemory.forget();
});
