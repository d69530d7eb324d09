import { counterNames, counterStub, registryStub } from "../durable/names";
import { unwrap } from "./registry-result";

/**
 * `GET /admin/applications/{id}/usage`: each throttling counter of an application as its Durable Object holds it
 * (README "Throttling"): the application's own, and one per subscription. `used` counts the permits granted in the
 * current window (leased to gateway instances: spent, or about to be); `leases` how many lease calls reached it.
 */
export async function usageOf(env: Env, id: string) {
  const registry = registryStub(env);
  const application = unwrap(await registry.getApplication(id));
  const subscriptions = await registry.listSubscriptions({ applicationId: id });
  const [own, ...perApi] = await Promise.all([
    counterStub(env, counterNames.application(id)).usage(),
    ...subscriptions.map((subscription) =>
      counterStub(env, counterNames.subscription(id, subscription.apiId)).usage(),
    ),
  ]);
  return {
    application: { tier: application.tier, ...(own as NonNullable<typeof own>) },
    subscriptions: subscriptions.map((subscription, i) => ({
      apiId: subscription.apiId,
      tier: subscription.tier,
      ...(perApi[i] as NonNullable<typeof own>),
    })),
  };
}
