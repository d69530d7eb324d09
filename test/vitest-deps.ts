/**
 * Pre-bundles the Worker's npm dependencies for the workerd test runs (vitest `deps.optimizer.ssr`): each test
 * file starts a fresh workerd, which imports its modules one by one from vitest's module fallback service, and hono,
 * zod, @hono/zod-openapi and jose are hundreds of small files; bundled, each is one file. Only how the modules are
 * loaded changes, not what runs (measured in README "Tests and benchmarks"). List every bare import of src/ here
 * (hono's subpaths too): one that is missing is simply loaded unbundled.
 */
export const optimizedDeps = {
  optimizer: {
    ssr: {
      enabled: true,
      include: [
        "hono",
        "hono/cookie",
        "hono/cors",
        "hono/factory",
        "hono/html",
        "hono/http-exception",
        "hono/jsx",
        "hono/utils/http-status",
        "@hono/zod-openapi",
        "zod",
        "jose",
      ],
    },
  },
};
