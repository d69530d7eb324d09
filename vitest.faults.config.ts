import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { optimizedDeps } from "./test/vitest-deps.ts";

/**
 * The same worker over a KV namespace that fails on purpose (test/faults/flaky-kv.mjs, a miniflare wrapped
 * binding around a real namespace): for the durable purge outbox (README "Revoke API"). wrangler.toml is not
 * read here, because its KV binding would shadow the wrapper: the Durable Object bindings are declared below
 * (the vars take their defaults, src/core/config.ts).
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/index.ts",
      miniflare: {
        compatibilityDate: "2026-04-20",
        compatibilityFlags: ["nodejs_compat"],
        bindings: { ADMIN_TOKEN: "test-admin-token" },
        durableObjects: {
          REGISTRY: { className: "Registry", useSQLite: true },
          CLIENT_SHARDS: { className: "ClientShard", useSQLite: true },
          SIGNING_KEYS: { className: "SigningKeys", useSQLite: true },
          USER_STORES: { className: "UserStore", useSQLite: true },
        },
        wrappedBindings: { VALIDATION_CACHE: "flaky-kv" },
        workers: [
          {
            name: "flaky-kv",
            modules: true,
            scriptPath: "./test/faults/flaky-kv.mjs",
            kvNamespaces: { INNER: "flaky-kv-inner" },
          },
        ],
      },
    }),
  ],
  test: {
    name: "faults",
    include: ["test/faults/**/*.test.ts"],
    globalSetup: ["./test/gateway/global-setup.ts"],
    testTimeout: 30_000,
    deps: optimizedDeps,
  },
});
