#!/usr/bin/env node
// `npm start`: wrangler dev with local persisted state (.wrangler/state) and a dev-only ADMIN_TOKEN.
// On first run .dev.vars.example is copied to .dev.vars. Extra arguments go to wrangler (e.g. --port 9000).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const devVars = join(root, ".dev.vars");
if (!existsSync(devVars)) {
  copyFileSync(join(root, ".dev.vars.example"), devVars);
  console.log("created .dev.vars from .dev.vars.example (local ADMIN_TOKEN=dev-admin-token)");
}
const args = ["dev", "--local", "--persist-to", join(root, ".wrangler/state"), ...process.argv.slice(2)];
if (!process.argv.includes("--port")) args.push("--port", process.env.PORT ?? "8787");
if (!process.argv.includes("--ip")) args.push("--ip", "127.0.0.1");
const child = spawn(join(root, "node_modules/.bin/wrangler"), args, {
  cwd: root,
  stdio: "inherit",
  env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
