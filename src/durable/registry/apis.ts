import type { OriginList } from "../../core/cors-config";
import { conflict, found, notFound, type RegistryResult } from "./result";
import type { SqlRow } from "./schema";

export interface ApiInput {
  name: string;
  /** Normalised: leading slash, no trailing slash (`twitter` and `/twitter` are the same API). */
  context: string;
  version: string;
  productionEndpoint: string;
  sandboxEndpoint: string | null;
  /** Origins a page may call the API from (`"*"` or a list); null: the gateway's `CORS_ALLOWED_ORIGINS`. */
  corsOrigins: OriginList | null;
}

export interface ApiView extends ApiInput {
  id: string;
  createdAt: string;
}

export interface SubscriptionView {
  id: string;
  applicationId: string;
  apiId: string;
  tier: string;
  createdAt: string;
}

interface ApiRow {
  id: string;
  name: string;
  context: string;
  version: string;
  production_endpoint: string;
  sandbox_endpoint: string | null;
  cors_origins: string | null;
  created_at: number;
}

interface SubscriptionRow {
  id: string;
  application_id: string;
  api_id: string;
  tier: string;
  created_at: number;
}

const apiView = (row: ApiRow): ApiView => ({
  id: row.id,
  name: row.name,
  context: row.context,
  version: row.version,
  productionEndpoint: row.production_endpoint,
  sandboxEndpoint: row.sandbox_endpoint,
  corsOrigins: row.cors_origins === null ? null : (JSON.parse(row.cors_origins) as OriginList),
  createdAt: new Date(row.created_at).toISOString(),
});

const subscriptionView = (row: SubscriptionRow): SubscriptionView => ({
  id: row.id,
  applicationId: row.application_id,
  apiId: row.api_id,
  tier: row.tier,
  createdAt: new Date(row.created_at).toISOString(),
});

const corsOriginsColumn = (origins: OriginList | null): string | null =>
  origins === null ? null : JSON.stringify(origins);

/** Published APIs and the applications subscribed to them. */
export class ApiStore {
  constructor(private readonly sql: SqlStorage) {}

  private apiRow(id: string): ApiRow | null {
    const rows = this.sql.exec<SqlRow>("SELECT * FROM apis WHERE id = ?", id).toArray();
    return (rows[0] as unknown as ApiRow | undefined) ?? null;
  }

  createApi(input: ApiInput): RegistryResult<ApiView> {
    const clash = this.sql
      .exec("SELECT id FROM apis WHERE context = ? AND version = ?", input.context, input.version)
      .toArray();
    if (clash.length > 0) return conflict(`an API already serves ${input.context}/${input.version}`);
    const id = crypto.randomUUID();
    this.sql.exec(
      `INSERT INTO apis (id, name, context, version, production_endpoint, sandbox_endpoint, cors_origins,
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      input.name,
      input.context,
      input.version,
      input.productionEndpoint,
      input.sandboxEndpoint,
      corsOriginsColumn(input.corsOrigins),
      Date.now(),
    );
    return found(apiView(this.apiRow(id) as ApiRow));
  }

  getApi(id: string): RegistryResult<ApiView> {
    const row = this.apiRow(id);
    return row ? found(apiView(row)) : notFound(`no API ${id}`);
  }

  listApis(): ApiView[] {
    return (
      this.sql.exec<SqlRow>("SELECT * FROM apis ORDER BY context, version").toArray() as unknown as ApiRow[]
    ).map(apiView);
  }

  updateApi(id: string, changes: Partial<ApiInput>): RegistryResult<ApiView> {
    const row = this.apiRow(id);
    if (!row) return notFound(`no API ${id}`);
    const next = { ...apiView(row), ...changes };
    const clash = this.sql
      .exec(
        "SELECT id FROM apis WHERE context = ? AND version = ? AND id != ?",
        next.context,
        next.version,
        id,
      )
      .toArray();
    if (clash.length > 0) return conflict(`an API already serves ${next.context}/${next.version}`);
    this.sql.exec(
      `UPDATE apis SET name = ?, context = ?, version = ?, production_endpoint = ?, sandbox_endpoint = ?,
         cors_origins = ? WHERE id = ?`,
      next.name,
      next.context,
      next.version,
      next.productionEndpoint,
      next.sandboxEndpoint,
      corsOriginsColumn(next.corsOrigins),
      id,
    );
    return found(apiView(this.apiRow(id) as ApiRow));
  }

  deleteApi(id: string): RegistryResult<{ subscriptions: SubscriptionView[] }> {
    if (!this.apiRow(id)) return notFound(`no API ${id}`);
    const subscriptions = this.listSubscriptions({ apiId: id });
    this.sql.exec("DELETE FROM subscriptions WHERE api_id = ?", id);
    this.sql.exec("DELETE FROM apis WHERE id = ?", id);
    return found({ subscriptions });
  }

  createSubscription(applicationId: string, apiId: string, tier: string): RegistryResult<SubscriptionView> {
    if (!this.apiRow(apiId)) return notFound(`no API ${apiId}`);
    const clash = this.sql
      .exec("SELECT id FROM subscriptions WHERE application_id = ? AND api_id = ?", applicationId, apiId)
      .toArray();
    if (clash.length > 0)
      return conflict(`application ${applicationId} is already subscribed to API ${apiId}`);
    const id = crypto.randomUUID();
    this.sql.exec(
      "INSERT INTO subscriptions (id, application_id, api_id, tier, created_at) VALUES (?, ?, ?, ?, ?)",
      id,
      applicationId,
      apiId,
      tier,
      Date.now(),
    );
    return this.getSubscription(id);
  }

  getSubscription(id: string): RegistryResult<SubscriptionView> {
    const rows = this.sql.exec<SqlRow>("SELECT * FROM subscriptions WHERE id = ?", id).toArray();
    const row = rows[0] as unknown as SubscriptionRow | undefined;
    return row ? found(subscriptionView(row)) : notFound(`no subscription ${id}`);
  }

  /** Removes every subscription of an application (the application is being deleted). */
  deleteSubscriptionsOf(applicationId: string): void {
    this.sql.exec("DELETE FROM subscriptions WHERE application_id = ?", applicationId);
  }

  listSubscriptions(filter: { applicationId?: string; apiId?: string }): SubscriptionView[] {
    const rows = this.sql
      .exec<SqlRow>(
        `SELECT * FROM subscriptions WHERE (? IS NULL OR application_id = ?) AND (? IS NULL OR api_id = ?)
         ORDER BY created_at`,
        filter.applicationId ?? null,
        filter.applicationId ?? null,
        filter.apiId ?? null,
        filter.apiId ?? null,
      )
      .toArray() as unknown as SubscriptionRow[];
    return rows.map(subscriptionView);
  }

  /** How many subscriptions have the given tier. */
  countWithTier(tier: string): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM subscriptions WHERE tier = ?", tier).one()
      .n;
  }

  updateSubscription(id: string, tier: string): RegistryResult<SubscriptionView> {
    const updated = this.sql.exec("UPDATE subscriptions SET tier = ? WHERE id = ?", tier, id).rowsWritten;
    return updated > 0 ? this.getSubscription(id) : notFound(`no subscription ${id}`);
  }

  deleteSubscription(id: string): RegistryResult<SubscriptionView> {
    const existing = this.getSubscription(id);
    if (!existing.ok) return existing;
    this.sql.exec("DELETE FROM subscriptions WHERE id = ?", id);
    return existing;
  }
}
