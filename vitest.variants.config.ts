import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { optimizedDeps } from "./test/vitest-deps.ts";

/**
 * The same worker under non-default configuration: strict single-use refresh tokens
 * (REFRESH_TOKEN_REUSE_GRACE=0), WSO2's 300 s timestamp skew, and never-expiring user tokens.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ADMIN_TOKEN: "test-admin-token",
          REFRESH_TOKEN_REUSE_GRACE: "0",
          TIMESTAMP_SKEW: "300",
          USER_ACCESS_TOKEN_VALIDITY: "-1",
          REFRESH_TOKEN_VALIDITY: "-1",
        },
      },
    }),
  ],
  test: {
    name: "variants",
    include: ["test/variants/**/*.test.ts"],
    testTimeout: 30_000,
    deps: optimizedDeps,
  },
});
