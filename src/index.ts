import { Hono } from "hono";
import { adminRoutes } from "./admin";
import { AdminError } from "./errors/admin-error";
import { OAuthError } from "./errors/oauth-error";
import { gatewayCall } from "./gateway";
import { type AppEnv, withConfig } from "./http/app-env";
import { presentedClient, presentedClientOrOperator } from "./http/client-authentication";
import { errorResponse } from "./http/error-response";
import { authorizeRoutes } from "./oauth/authorize/endpoint";
import { introspectEndpoint } from "./oauth/introspect-endpoint";
import { metadataEndpoint } from "./oauth/metadata";
import { revokeEndpoint } from "./oauth/revoke-endpoint";
import { tokenEndpoint } from "./oauth/token-endpoint";
import { JWKS_PATH, jwksEndpoint } from "./signing/jwks-endpoint";
import { storeRoutes } from "./store/routes";

export { ClientShard } from "./durable/client-shard";
export { Registry } from "./durable/registry";
export { SigningKeys } from "./durable/signing-keys";
export { ThrottleCounter } from "./durable/throttle-counter";
export { UserStore } from "./durable/user-store";

const oauthMethodNotAllowed = () => {
  throw new OAuthError("invalid_request", "use POST", { status: 405, headers: { Allow: "POST" } });
};

const app = new Hono<AppEnv>();

app.use(withConfig);
app.post("/token", presentedClient, tokenEndpoint);
app.post("/revoke", presentedClient, revokeEndpoint);
app.post("/introspect", presentedClientOrOperator, introspectEndpoint);
app.all("/token", oauthMethodNotAllowed);
app.all("/revoke", oauthMethodNotAllowed);
app.all("/introspect", oauthMethodNotAllowed);
app.route("/authorize", authorizeRoutes);
app.get("/.well-known/oauth-authorization-server", metadataEndpoint);
app.get(JWKS_PATH, jwksEndpoint);
app.route("/admin", adminRoutes);
app.route("/store", storeRoutes);
app.get("/health", (c) => c.json({ status: "ok" }));

app.notFound((c) => {
  if (new URL(c.req.url).pathname.startsWith("/admin")) {
    return new AdminError(404, "not_found", "no such admin resource").getResponse();
  }
  // Everything else is the API gateway's: a call to a published /{context}/{version}, or its 404.
  return gatewayCall(c);
});
app.onError((error, c) => errorResponse(error, c));

export default app;
