import type { TestProject } from "vitest/node";
import { startBackend } from "./backend-server.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** Origin of the real HTTP backend the gateway tests forward to, e.g. `http://127.0.0.1:40123`. */
    gatewayBackend: string;
  }
}

/** Starts the gateway tests' backend (a node:http server on an ephemeral loopback port) for the whole run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const backend = await startBackend({ port: 0 });
  project.provide("gatewayBackend", backend.url);
  return () => backend.close();
}
