#!/usr/bin/env node
// `npm start`: wrangler dev with local persisted state (.wrangler/state) and a dev-only ADMIN_TOKEN.
// On first run .dev.vars.example is copied to .dev.vars. Extra arguments go to wrangler (e.g. --port 9000).
// Once wrangler is ready it prints where things are: base URL, token endpoint, admin token, README section.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const devVars = join(root, ".dev.vars");
if (!existsSync(devVars)) {
  copyFileSync(join(root, ".dev.vars.example"), devVars);
  console.log("created .dev.vars from .dev.vars.example (local ADMIN_TOKEN=dev-admin-token)");
}
const adminToken = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(devVars, "utf8"))?.[1]?.trim();

const args = ["dev", "--local", "--persist-to", join(root, ".wrangler/state"), ...process.argv.slice(2)];
if (!process.argv.includes("--port")) args.push("--port", process.env.PORT ?? "8787");
if (!process.argv.includes("--ip")) args.push("--ip", "127.0.0.1");
const child = spawn(join(root, "node_modules/.bin/wrangler"), args, {
  cwd: root,
  stdio: ["inherit", "pipe", "pipe"],
  env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...process.env },
});

function banner(origin) {
  const where = relative(process.cwd(), devVars) || ".dev.vars";
  return [
    "",
    "edge-key-manager is running",
    `  base URL        ${origin}`,
    `  token endpoint  POST ${origin}/token  (also /revoke, /introspect, /authorize)`,
    `  metadata        ${origin}/.well-known/oauth-authorization-server`,
    `  admin API       ${origin}/admin  with  Authorization: Bearer $ADMIN_TOKEN`,
    `  admin token     ADMIN_TOKEN in ${where}${adminToken ? ` (${adminToken}, dev only)` : ""}`,
    '  next            README.md "The whole journey with curl"; to go live, "Deploy to Cloudflare"',
    "",
  ].join("\n");
}

let announced = false;
let seen = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  if (announced) return;
  seen = (seen + chunk.toString()).slice(-4096);
  const origin = /Ready on (http:\/\/\S+)/.exec(seen)?.[1]?.replace(/\/$/, "");
  if (origin) {
    announced = true;
    console.log(banner(origin));
  }
});
child.stderr.on("data", (chunk) => process.stderr.write(chunk));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
