import { Hono } from "hono";
import type { Env } from "../env";
import { requireAdmin } from "../http/admin-auth";
import { apiRoutes, subscriptionRoutes } from "./apis";
import { applicationRoutes } from "./applications";
import { signingKeyRoutes } from "./signing-keys";
import { userRoutes } from "./users";

/** The admin API (CONTRACT.md), behind `Authorization: Bearer <ADMIN_TOKEN>`. */
export const adminRoutes = new Hono<{ Bindings: Env }>()
  .use("*", requireAdmin)
  .route("/users", userRoutes)
  .route("/applications", applicationRoutes)
  .route("/apis", apiRoutes)
  .route("/subscriptions", subscriptionRoutes)
  .route("/signing-keys", signingKeyRoutes);
