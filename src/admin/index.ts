import { requireAdmin } from "../http/admin-auth";
import { forgetGatewayFacts } from "../http/forget-gateway-facts";
import { adminRouter } from "./admin-app";
import { apiRoutes } from "./apis";
import { applicationRoutes } from "./applications";
import { signingKeyRoutes } from "./signing-keys";
import { subscriptionRoutes } from "./subscriptions";
import { tierRoutes } from "./tiers";
import { trustedIssuerRoutes } from "./trusted-issuers";
import { userRoutes } from "./users";

/** Where the OpenAPI 3.1 document of the admin API is served, under /admin (README "Admin API"). */
export const OPENAPI_PATH = "/openapi.json";

/**
 * The admin API (README "Admin API"), behind `Authorization: Bearer <ADMIN_TOKEN>`, its OpenAPI document
 * included: every route is declared with the schemas that validate it (src/admin/schemas/, one module per
 * resource). A new resource: a schema module with its `createRoute`s, a router of `.openapi(route, handler)`,
 * and one `.route()` line here.
 */
export const adminRoutes = adminRouter();
adminRoutes.use("*", requireAdmin);
adminRoutes.use("*", forgetGatewayFacts);
adminRoutes
  .route("/users", userRoutes)
  .route("/applications", applicationRoutes)
  .route("/apis", apiRoutes)
  .route("/subscriptions", subscriptionRoutes)
  .route("/tiers", tierRoutes)
  .route("/signing-keys", signingKeyRoutes)
  .route("/trusted-issuers", trustedIssuerRoutes);

adminRoutes.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
  type: "http",
  scheme: "bearer",
  description: 'The operator\'s ADMIN_TOKEN (README "Deploy to Cloudflare")',
});

adminRoutes.doc31(OPENAPI_PATH, (c) => ({
  openapi: "3.1.0",
  info: {
    title: "edge-key-manager admin API",
    version: "1",
    description:
      "Users, applications and their keys, APIs, subscriptions, trusted issuers and signing keys. " +
      'Errors are {"error","message"}. This document itself needs the admin token.',
  },
  servers: [{ url: `${new URL(c.req.url).origin}/admin` }],
  security: [{ adminToken: [] }],
}));
