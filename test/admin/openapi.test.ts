import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { admin, call } from "../helpers";

interface OpenApiDocument {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}

/** Every route the Worker serves under /admin, as "METHOD /path/{param}" relative to /admin. */
function servedAdminRoutes(): string[] {
  const routes = new Set<string>();
  for (const { method, path } of worker.routes) {
    if (!path.startsWith("/admin/") || method === "ALL" || path === "/admin/openapi.json") continue;
    const relative = path.slice("/admin".length).replace(/\/$/, "") || "/";
    routes.add(`${method} ${relative.replace(/:([^/]+)/g, "{$1}")}`);
  }
  return [...routes].sort();
}

describe("GET /admin/openapi.json", () => {
  it("needs the admin token, like the rest of the admin API", async () => {
    const response = await call("/admin/openapi.json");
    expect(response.status).toBe(401);
  });

  it("is an OpenAPI 3.1 document listing every admin route", async () => {
    const response = await admin("GET", "/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenApiDocument;
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers[0]?.url).toBe("http://localhost:8787/admin");
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/(.)\/$/, "$1")}`),
      )
      .sort();
    const served = servedAdminRoutes();
    expect(served.length).toBeGreaterThan(20);
    expect(documented).toEqual(served);
    for (const operations of Object.values(document.paths)) {
      for (const operation of Object.values(operations)) expect(operation.responses["401"]).toBeDefined();
    }
  });
});
