import { appToken, backend, callApi, createApi, type TestApi } from "../gateway/gateway-helpers";
import { adminJson, createApp, type TestApp, unique } from "../helpers";

/** A tier of the test's own (limits the defaults do not have). */
export async function createTier(
  requestCount: number,
  unitTime: number,
  stopOnQuotaReach = true,
): Promise<string> {
  const name = unique("T");
  await adminJson("POST", "/tiers", { name, requestCount, unitTime, stopOnQuotaReach });
  return name;
}

export interface Tiered {
  api: TestApi;
  app: TestApp;
  subscription: { id: string };
  token: string;
  /** A path under the API that the backend counts under `id`. */
  path: (id: string, delayMs?: number) => string;
}

/** An application with the given tier, subscribed to a new API with the given tier, and an application token. */
export async function tieredCaller(
  options: { subscriptionTier?: string; applicationTier?: string } = {},
): Promise<Tiered> {
  const api = await createApi();
  const app = await createApp(options.applicationTier ? { tier: options.applicationTier } : {});
  const subscription = await adminJson<{ id: string }>("POST", "/subscriptions", {
    applicationId: app.id,
    apiId: api.id,
    ...(options.subscriptionTier ? { tier: options.subscriptionTier } : {}),
  });
  const token = await appToken(app.keys.PRODUCTION);
  const path = (id: string, delayMs = 0) =>
    `${api.context}/${api.version}/count/${id}${delayMs > 0 ? `?delay=${delayMs}` : ""}`;
  return { api, app, subscription, token, path };
}

/** What the real backend counted under `id`: calls forwarded to it, how many overlapped, how many marked throttled. */
export async function backendCount(
  id: string,
): Promise<{ calls: number; maxInFlight: number; throttled: number }> {
  const response = await fetch(`${backend()}/__count/${id}`);
  return (await response.json()) as { calls: number; maxInFlight: number; throttled: number };
}

/** Calls `count` times one after the other; the statuses in order. */
export async function callSequentially(
  path: string,
  token: string,
  count: number,
  init: RequestInit = {},
): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await callApi(path, token, init);
    statuses.push(response.status);
    await response.arrayBuffer();
  }
  return statuses;
}

/** The admin API's view of an application's throttling counters (GET /admin/applications/{id}/usage). */
export function usageOf(applicationId: string): Promise<{
  application: { used: number; windowEnd: number | null };
  subscriptions: Array<{ apiId: string; tier: string; used: number; windowEnd: number | null }>;
}> {
  return adminJson("GET", `/applications/${applicationId}/usage`);
}

export const countOf = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;
