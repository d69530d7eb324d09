import { Hono } from "hono";
import { requireAdmin } from "../http/admin-auth";
import type { AppEnv } from "../http/app-env";
import { apiRoutes, subscriptionRoutes } from "./apis";
import { applicationRoutes } from "./applications";
import { signingKeyRoutes } from "./signing-keys";
import { tierRoutes } from "./tiers";
import { trustedIssuerRoutes } from "./trusted-issuers";
import { userRoutes } from "./users";

/** The admin API (README "Admin API"), behind `Authorization: Bearer <ADMIN_TOKEN>`. */
export const adminRoutes = new Hono<AppEnv>()
  .use("*", requireAdmin)
  .route("/users", userRoutes)
  .route("/applications", applicationRoutes)
  .route("/apis", apiRoutes)
  .route("/subscriptions", subscriptionRoutes)
  .route("/tiers", tierRoutes)
  .route("/signing-keys", signingKeyRoutes)
  .route("/trusted-issuers", trustedIssuerRoutes);
