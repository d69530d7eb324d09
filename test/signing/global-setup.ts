import type { TestProject } from "vitest/node";
import { startJwksServer } from "./jwks-server.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** Origin of the real JWKS host of the jwt-bearer tests, e.g. `http://127.0.0.1:40123`. */
    jwksServer: string;
  }
}

/** Starts the jwt-bearer tests' JWKS host (test/signing/jwks-server.mjs) for the whole run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startJwksServer();
  project.provide("jwksServer", server.url);
  return () => server.close();
}
