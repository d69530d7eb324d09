import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: { ADMIN_TOKEN: "test-admin-token" } },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/variants/**"],
    // A real HTTP backend (node:http on an ephemeral loopback port) for the gateway tests: inject("gatewayBackend").
    globalSetup: ["./test/gateway/global-setup.ts"],
    testTimeout: 30_000,
  },
});
