import type { z } from "@hono/zod-openapi";
import { registryStub } from "../durable/names";
import type { ApiInput } from "../durable/registry/apis";
import { adminRouter } from "./admin-app";
import { unwrap } from "./registry-result";
import { type ApiChanges, createApi, deleteApi, getApi, listApis, updateApi } from "./schemas/apis";

async function update(env: Env, id: string, body: z.output<typeof ApiChanges>) {
  const changes: Partial<ApiInput> = {
    name: body.name ?? undefined,
    context: body.context ?? undefined,
    version: body.version ?? undefined,
    productionEndpoint: body.productionEndpoint ?? undefined,
    sandboxEndpoint: body.sandboxEndpoint,
    corsOrigins: body.corsOrigins,
  };
  const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
  return unwrap(await registryStub(env).updateApi(id, defined));
}

/** `/admin/apis`: published APIs (`/{context}/{version}` on the gateway). */
export const apiRoutes = adminRouter()
  .openapi(createApi, async (c) => {
    const body = c.req.valid("json");
    const created = unwrap(
      await registryStub(c.env).createApi({
        ...body,
        sandboxEndpoint: body.sandboxEndpoint ?? null,
        corsOrigins: body.corsOrigins ?? null,
      }),
    );
    return c.json(created, 201, { Location: `/admin/apis/${created.id}` });
  })
  .openapi(listApis, async (c) => c.json(await registryStub(c.env).listApis(), 200))
  .openapi(getApi, async (c) =>
    c.json(unwrap(await registryStub(c.env).getApi(c.req.valid("param").id)), 200),
  )
  .openapi(updateApi("put"), async (c) =>
    c.json(await update(c.env, c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(updateApi("patch"), async (c) =>
    c.json(await update(c.env, c.req.valid("param").id, c.req.valid("json")), 200),
  )
  .openapi(deleteApi, async (c) => {
    unwrap(await registryStub(c.env).deleteApi(c.req.valid("param").id));
    return c.body(null, 204);
  });
