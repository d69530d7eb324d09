import { createMiddleware } from "hono/factory";
import { type Config, readConfig } from "../core/config";
import { OAuthError } from "../errors/oauth-error";

/** What every handler finds on `c.var`: the configuration, read once per request. */
export interface AppEnv {
  Bindings: Env;
  Variables: { config: Config };
}

/**
 * Reads the configuration from the bindings once (src/core/config.ts) and puts it on `c.var.config`. A setting
 * that does not parse (or ENVIRONMENT=production without ISSUER) fails every request with a 500 that names it,
 * and the log says the same: the operator's mistake, told plainly rather than served around.
 */
export const withConfig = createMiddleware<AppEnv>(async (c, next) => {
  let config: Config;
  try {
    config = readConfig(c.env);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`the service is misconfigured: ${message}`);
    throw new OAuthError("server_error", `the service is misconfigured: ${message}`);
  }
  c.set("config", config);
  await next();
});
