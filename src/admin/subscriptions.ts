import { UNLIMITED } from "../core/tiers";
import { registryStub } from "../durable/names";
import { adminRouter } from "./admin-app";
import { unwrap } from "./registry-result";
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  updateSubscription,
} from "./schemas/subscriptions";

async function setTier(env: Env, id: string, tier: string) {
  return unwrap(await registryStub(env).updateSubscription(id, tier));
}

/** `/admin/subscriptions`: an application subscribed to an API, with a tier name. */
export const subscriptionRoutes = adminRouter()
  .openapi(createSubscription, async (c) => {
    const body = c.req.valid("json");
    const created = unwrap(
      await registryStub(c.env).createSubscription(body.applicationId, body.apiId, body.tier ?? UNLIMITED),
    );
    return c.json(created, 201, { Location: `/admin/subscriptions/${created.id}` });
  })
  .openapi(listSubscriptions, async (c) => {
    const { applicationId, apiId } = c.req.valid("query");
    return c.json(
      await registryStub(c.env).listSubscriptions({
        ...(applicationId ? { applicationId } : {}),
        ...(apiId ? { apiId } : {}),
      }),
      200,
    );
  })
  .openapi(getSubscription, async (c) =>
    c.json(unwrap(await registryStub(c.env).getSubscription(c.req.valid("param").id)), 200),
  )
  .openapi(updateSubscription("put"), async (c) =>
    c.json(await setTier(c.env, c.req.valid("param").id, c.req.valid("json").tier), 200),
  )
  .openapi(updateSubscription("patch"), async (c) =>
    c.json(await setTier(c.env, c.req.valid("param").id, c.req.valid("json").tier), 200),
  )
  .openapi(deleteSubscription, async (c) => {
    unwrap(await registryStub(c.env).deleteSubscription(c.req.valid("param").id));
    return c.body(null, 204);
  });
