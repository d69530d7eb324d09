import { createMiddleware } from "hono/factory";
import { type Config, readConfig } from "../core/config";

/** What every handler finds on `c.var`: the configuration, read once per request. */
export interface AppEnv {
  Bindings: Env;
  Variables: { config: Config };
}

/** Reads the configuration from the bindings once (src/core/config.ts) and puts it on `c.var.config`. */
export const withConfig = createMiddleware<AppEnv>(async (c, next) => {
  c.set("config", readConfig(c.env));
  await next();
});
