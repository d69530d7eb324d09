import { Hono } from "hono";
import { adminRoutes } from "./admin";
import type { Env } from "./env";
import { AdminError, OAuthError } from "./errors";
import { errorResponse } from "./http/error-response";
import { jsonResponse } from "./http/responses";
import { introspectEndpoint } from "./oauth/introspect-endpoint";
import { revokeEndpoint } from "./oauth/revoke-endpoint";
import { tokenEndpoint } from "./oauth/token-endpoint";

export { ClientShard } from "./durable/client-shard";
export { Registry } from "./durable/registry";

const oauthMethodNotAllowed = () => {
  throw new OAuthError("invalid_request", "use POST", { status: 405, headers: { Allow: "POST" } });
};

const app = new Hono<{ Bindings: Env }>();

app.post("/token", tokenEndpoint);
app.post("/revoke", revokeEndpoint);
app.post("/introspect", introspectEndpoint);
app.all("/token", oauthMethodNotAllowed);
app.all("/revoke", oauthMethodNotAllowed);
app.all("/introspect", oauthMethodNotAllowed);
app.route("/admin", adminRoutes);
app.get("/health", (c) => c.json({ status: "ok" }));

app.notFound((c) => {
  if (new URL(c.req.url).pathname.startsWith("/admin")) {
    return errorResponse(new AdminError(404, "not_found", "no such admin resource"), c);
  }
  return jsonResponse({ error: "not_found", error_description: "no route or API matches this path" }, 404);
});
app.onError((error, c) => errorResponse(error, c));

export default app;
