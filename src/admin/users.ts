import { Hono } from "hono";
import {
  canonicalUserName,
  DEFAULT_TENANT,
  formatUserName,
  PRIMARY_DOMAIN,
  parseUserName,
} from "../core/identity";
import { hashPassword } from "../crypto/password";
import { registryStub } from "../durable/names";
import { AdminError, unwrap } from "../errors/admin-error";
import type { AppEnv } from "../http/app-env";
import { optionalString, readJson, requiredString } from "./input";

const MAX_PASSWORD = 256;

function userPath(raw: string): string {
  // Hono has already percent-decoded the path parameter.
  const username = canonicalUserName(raw);
  if (!username) throw new AdminError(404, "not_found", "no such user");
  return username;
}

function password(body: Record<string, unknown>): string {
  const value = body.password;
  if (typeof value !== "string" || value.length === 0)
    throw new AdminError(400, "invalid_request", "password is required");
  if (value.length > MAX_PASSWORD)
    throw new AdminError(400, "invalid_request", `password must be at most ${MAX_PASSWORD} characters`);
  return value;
}

/** `/admin/users`: the user store (tenant default carbon.super, user-store domain default PRIMARY). */
export const userRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await readJson(c.req.raw);
    const user = parseUserName(requiredString(body, "username", 100), {
      tenant: optionalString(body, "tenant", 100) ?? DEFAULT_TENANT,
      userStoreDomain: optionalString(body, "userStoreDomain", 50) ?? PRIMARY_DOMAIN,
    });
    if (!user) {
      throw new AdminError(
        400,
        "invalid_request",
        "username may use letters, digits and . _ - + only ([DOMAIN/]name[@tenant])",
      );
    }
    const created = unwrap(
      await registryStub(c.env).createUser({
        username: formatUserName(user),
        name: user.name,
        tenant: user.tenant,
        userStoreDomain: user.userStoreDomain,
        password: await hashPassword(password(body)),
      }),
    );
    return c.json(created, 201, { Location: `/admin/users/${encodeURIComponent(created.username)}` });
  })
  .get("/", async (c) => c.json(await registryStub(c.env).listUsers()))
  .get("/:username", async (c) =>
    c.json(unwrap(await registryStub(c.env).getUser(userPath(c.req.param("username"))))),
  )
  .on(["PUT", "PATCH"], "/:username", async (c) => {
    const username = userPath(c.req.param("username"));
    const body = await readJson(c.req.raw);
    return c.json(
      unwrap(await registryStub(c.env).setUserPassword(username, await hashPassword(password(body)))),
    );
  })
  .delete("/:username", async (c) => {
    unwrap(await registryStub(c.env).deleteUser(userPath(c.req.param("username"))));
    return c.body(null, 204);
  });
