import {
  canonicalUserName,
  DEFAULT_TENANT,
  formatUserName,
  PRIMARY_DOMAIN,
  parseUserName,
} from "../core/identity";
import { hashPassword } from "../crypto/password";
import { AdminError } from "../errors/admin-error";
import * as users from "../services/users";
import { adminRouter } from "./admin-app";
import { unwrap } from "./registry-result";
import {
  changePassword,
  createUser,
  DEFAULT_USER_PAGE,
  deleteUser,
  getUser,
  listUsers,
} from "./schemas/users";

function userPath(raw: string): string {
  // Hono has already percent-decoded the path parameter.
  const username = canonicalUserName(raw);
  if (!username) throw new AdminError(404, "not_found", "no such user");
  return username;
}

/** `/admin/users`: the user store (tenant default carbon.super, user-store domain default PRIMARY). */
export const userRoutes = adminRouter()
  .openapi(createUser, async (c) => {
    const body = c.req.valid("json");
    const user = parseUserName(body.username, {
      tenant: body.tenant ?? DEFAULT_TENANT,
      userStoreDomain: body.userStoreDomain ?? PRIMARY_DOMAIN,
    });
    if (!user) {
      throw new AdminError(
        400,
        "invalid_request",
        "username may use letters, digits and . _ - + only ([DOMAIN/]name[@tenant])",
      );
    }
    const created = unwrap(
      await users.createUser(c.env, {
        username: formatUserName(user),
        name: user.name,
        tenant: user.tenant,
        userStoreDomain: user.userStoreDomain,
        password: await hashPassword(body.password),
      }),
    );
    return c.json(created, 201, { Location: `/admin/users/${encodeURIComponent(created.username)}` });
  })
  .openapi(listUsers, async (c) => {
    const { limit = DEFAULT_USER_PAGE, after } = c.req.valid("query");
    const page = await users.listUsers(c.env, after ?? null, limit);
    const headers: Record<string, string> = {};
    if (page.next !== null) {
      const next = new URLSearchParams({ limit: String(limit), after: page.next });
      headers.Link = `</admin/users?${next}>; rel="next"`;
    }
    return c.json(page.users, 200, headers);
  })
  .openapi(getUser, async (c) =>
    c.json(unwrap(await users.getUser(c.env, userPath(c.req.valid("param").username))), 200),
  )
  .openapi(changePassword("put"), async (c) =>
    c.json(await setPassword(c.env, c.req.valid("param").username, c.req.valid("json").password), 200),
  )
  .openapi(changePassword("patch"), async (c) =>
    c.json(await setPassword(c.env, c.req.valid("param").username, c.req.valid("json").password), 200),
  )
  .openapi(deleteUser, async (c) => {
    unwrap(await users.deleteUser(c.env, userPath(c.req.valid("param").username)));
    return c.body(null, 204);
  });

async function setPassword(env: Env, rawUsername: string, password: string) {
  return unwrap(await users.setUserPassword(env, userPath(rawUsername), await hashPassword(password)));
}
