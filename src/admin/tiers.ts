import { Hono } from "hono";
import { registryStub } from "../durable/names";
import { unwrap } from "../errors/admin-error";
import type { AppEnv } from "../http/app-env";
import { readJson } from "./input";
import { newTier, tierChanges, tierName } from "./tier-input";

/** `/admin/tiers`: throttling tiers (README "Throttling"). */
export const tierRoutes = new Hono<AppEnv>()
  .get("/", async (c) => c.json(await registryStub(c.env).listTiers()))
  .post("/", async (c) => {
    const input = newTier(await readJson(c.req.raw));
    const created = unwrap(await registryStub(c.env).createTier(input));
    return c.json(created, 201, { Location: `/admin/tiers/${encodeURIComponent(created.name)}` });
  })
  .get("/:name", async (c) =>
    c.json(unwrap(await registryStub(c.env).getTier(tierName(c.req.param("name"), "tier name")))),
  )
  .on(["PUT", "PATCH"], "/:name", async (c) => {
    const name = tierName(c.req.param("name"), "tier name");
    const changes = tierChanges(await readJson(c.req.raw), name);
    return c.json(unwrap(await registryStub(c.env).updateTier(name, changes)));
  })
  .delete("/:name", async (c) => {
    unwrap(await registryStub(c.env).deleteTier(tierName(c.req.param("name"), "tier name")));
    return c.body(null, 204);
  });
