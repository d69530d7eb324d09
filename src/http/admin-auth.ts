import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "../crypto/secrets";
import { AdminError } from "../errors/admin-error";

/** True when `authorization` is `Bearer <ADMIN_TOKEN>` (compared in constant time). */
export function adminTokenMatches(env: Env, authorization: string | null | undefined): boolean {
  const expected = env.ADMIN_TOKEN;
  if (!expected || !authorization) return false;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? timingSafeEqual(match[1] as string, expected) : false;
}

/** Guards the admin API: 401 without the operator's token. */
export const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  if (!c.env.ADMIN_TOKEN) {
    throw new AdminError(
      401,
      "unauthorized",
      "ADMIN_TOKEN is not configured: set it in .dev.vars or with wrangler secret put",
    );
  }
  if (!adminTokenMatches(c.env, c.req.header("authorization"))) {
    throw new AdminError(401, "unauthorized", "the admin API needs Authorization: Bearer <ADMIN_TOKEN>");
  }
  await next();
};
