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
    exclude: ["test/e2e/**", "test/variants/**", "test/faults/**"],
    // Real HTTP servers (node:http on ephemeral loopback ports): the gateway tests' backend, inject("gatewayBackend"),
    // and the jwt-bearer tests' JWKS host, inject("jwksServer").
    globalSetup: ["./test/gateway/global-setup.ts", "./test/signing/global-setup.ts"],
    testTimeout: 30_000,
  },
});
