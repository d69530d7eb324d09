import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { optimizedDeps } from "./test/vitest-deps.ts";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // FOO is a partitioned user-store domain in every suite (README "Users: the user store"): its users and
        // tokens live in objects of their own (test/durable/user-store-partitions.test.ts).
        bindings: { ADMIN_TOKEN: "test-admin-token", USER_STORE_PARTITIONS: "FOO" },
        // A throttling counter that always throws, in a worker of its own: a test binds THROTTLE_COUNTERS to it
        // (test/throttle/failure.test.ts) to see the gateway fail closed or open.
        durableObjects: { BROKEN_COUNTERS: { className: "BrokenCounter", scriptName: "broken-counter" } },
        workers: [
          {
            name: "broken-counter",
            modules: true,
            compatibilityDate: "2026-04-20",
            script: `import { DurableObject } from "cloudflare:workers";
export class BrokenCounter extends DurableObject {
  async lease() { throw new Error("this counter is broken on purpose"); }
}
export default { fetch() { return new Response("broken-counter"); } };`,
          },
        ],
      },
    }),
  ],
  test: {
    name: "workers",
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/variants/**", "test/faults/**"],
    // Real HTTP servers (node:http on ephemeral loopback ports): the gateway tests' backend, inject("gatewayBackend"),
    // and the jwt-bearer tests' JWKS host, inject("jwksServer").
    globalSetup: ["./test/gateway/global-setup.ts", "./test/signing/global-setup.ts"],
    testTimeout: 30_000,
    deps: optimizedDeps,
  },
});
