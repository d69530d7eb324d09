import type { z } from "@hono/zod-openapi";
import { registryStub } from "../durable/names";
import type { TierChanges } from "../durable/registry/tiers";
import { AdminError } from "../errors/admin-error";
import { adminRouter } from "./admin-app";
import { unwrap } from "./registry-result";
import {
  createTier,
  deleteTier,
  getTier,
  listTiers,
  type TierChanges as TierChangesBody,
  updateTier,
} from "./schemas/tiers";

/** The changes given, refusing a `name` other than the path's (a tier is not renamed). */
function changesFor(name: string, body: z.output<typeof TierChangesBody>): TierChanges {
  if (
    body.name !== undefined &&
    (typeof body.name !== "string" || body.name.toLowerCase() !== name.toLowerCase())
  ) {
    throw new AdminError(
      400,
      "invalid_request",
      "a tier cannot be renamed: create a new one and move its users",
    );
  }
  const changes: TierChanges = {
    requestCount: body.requestCount,
    unitTime: body.unitTime,
    stopOnQuotaReach: body.stopOnQuotaReach ?? undefined,
    description: body.description,
  };
  return Object.fromEntries(
    Object.entries(changes).filter(([, value]) => value !== undefined),
  ) as TierChanges;
}

/** `/admin/tiers`: throttling tiers (README "Throttling"). */
export const tierRoutes = adminRouter()
  .openapi(listTiers, async (c) => c.json(await registryStub(c.env).listTiers(), 200))
  .openapi(createTier, async (c) => {
    const body = c.req.valid("json");
    const created = unwrap(
      await registryStub(c.env).createTier({
        name: body.name,
        requestCount: body.requestCount,
        unitTime: body.unitTime,
        stopOnQuotaReach: body.stopOnQuotaReach ?? true,
        description: body.description ?? null,
      }),
    );
    return c.json(created, 201, { Location: `/admin/tiers/${encodeURIComponent(created.name)}` });
  })
  .openapi(getTier, async (c) =>
    c.json(unwrap(await registryStub(c.env).getTier(c.req.valid("param").name)), 200),
  )
  .openapi(updateTier("put"), async (c) => {
    const { name } = c.req.valid("param");
    return c.json(
      unwrap(await registryStub(c.env).updateTier(name, changesFor(name, c.req.valid("json")))),
      200,
    );
  })
  .openapi(updateTier("patch"), async (c) => {
    const { name } = c.req.valid("param");
    return c.json(
      unwrap(await registryStub(c.env).updateTier(name, changesFor(name, c.req.valid("json")))),
      200,
    );
  })
  .openapi(deleteTier, async (c) => {
    unwrap(await registryStub(c.env).deleteTier(c.req.valid("param").name));
    return c.body(null, 204);
  });
