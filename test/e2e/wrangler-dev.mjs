// Starts a real `wrangler dev` (workerd, local state in a throwaway folder) for end-to-end tests and benches.
// Usage: const server = await startWranglerDev({ vars: { REFRESH_TOKEN_REUSE_GRACE: "0" } });
//        ... fetch(`${server.origin}/token`) ...; await server.stop();
// Ports are ephemeral (wrangler dev --port 0 --inspector-port 0; the origin is read from its "Ready on" line), so
// several suites, and several checkouts on one machine, run at once without colliding.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const E2E_ADMIN_TOKEN = "e2e-admin-token";

const READY = /Ready on (http:\/\/\S+)/;

/** Waits for wrangler's "Ready on <origin>" line, then for the worker to answer /health; returns the origin. */
async function waitUntilUp(child, deadline, output) {
  let origin;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited early (${child.exitCode}):\n${output.join("")}`);
    origin ??= READY.exec(output.join(""))?.[1]?.replace(/\/$/, "");
    if (origin) {
      try {
        const response = await fetch(`${origin}/health`);
        if (response.ok) return origin;
      } catch {
        // not listening yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not answer${origin ? ` on ${origin}` : ""} in time:\n${output.join("")}`);
}

/**
 * @param {{ vars?: Record<string,string>, config?: string, timeoutMs?: number }} [options]
 */
export async function startWranglerDev(options = {}) {
  const { vars = {}, config = join(ROOT, "wrangler.toml"), timeoutMs = 60_000 } = options;
  const state = mkdtempSync(join(tmpdir(), "ekm-e2e-"));
  const args = ["dev", "--local", "--config", config, "--ip", "127.0.0.1"];
  args.push(
    "--port",
    "0",
    "--inspector-port",
    "0",
    "--persist-to",
    state,
    "--var",
    `ADMIN_TOKEN:${E2E_ADMIN_TOKEN}`,
  );
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const child = spawn(join(ROOT, "node_modules/.bin/wrangler"), args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      NO_COLOR: "1",
    },
  });
  const output = [];
  child.stdout.on("data", (chunk) => output.push(chunk.toString()));
  child.stderr.on("data", (chunk) => output.push(chunk.toString()));
  let origin;
  try {
    origin = await waitUntilUp(child, Date.now() + timeoutMs, output);
  } catch (error) {
    child.kill("SIGTERM");
    rmSync(state, { recursive: true, force: true });
    throw error;
  }
  return {
    origin,
    port: Number(new URL(origin).port),
    output,
    adminToken: E2E_ADMIN_TOKEN,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** Admin API call against a running server; throws on a non-2xx answer. */
export async function adminCall(server, method, path, body) {
  const headers = { Authorization: `Bearer ${server.adminToken}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${server.origin}/admin${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
