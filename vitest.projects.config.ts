import { defineConfig } from "vitest/config";

/**
 * `npm run test:unit`: the three workerd suites in one vitest run (one process, and files of all three share the
 * worker slots) instead of three runs one after another. Each config also runs alone, e.g.
 * `npx vitest run --config vitest.variants.config.ts`; plain `npx vitest run` is vitest.config.ts only.
 */
export default defineConfig({
  test: {
    projects: ["./vitest.config.ts", "./vitest.variants.config.ts", "./vitest.faults.config.ts"],
  },
});
