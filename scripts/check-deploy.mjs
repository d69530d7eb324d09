#!/usr/bin/env node
// `npm run check:deploy [-- --env production]`: what must hold before a real deploy (README "Deploy to Cloudflare").
// 1. No KV namespace id is a placeholder: a binding has either a real 32-hex-digit id or none at all (then
//    `wrangler deploy` provisions the namespace itself). An id like 000…0 would otherwise deploy silently and
//    fail only at the first gateway call.
// 2. Every environment declares the same vars as the top level (wrangler does not inherit them, and an
//    environment missing one would silently run on the code's default).
// 3. `wrangler deploy --dry-run` bundles the Worker for each environment, so a broken bundle fails here.
// Runs inside `npm test` for staging and production; `npm run deploy:<env>` runs it for that environment first.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { experimental_readRawConfig } from "wrangler";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const configPath = process.env.EKM_WRANGLER_CONFIG ?? join(root, "wrangler.toml");
const DEPLOYED_ENVIRONMENTS = ["staging", "production"];
const KV_ID = /^[0-9a-f]{32}$/;

/** Problems with the KV ids and vars of one environment's raw configuration. */
function problemsOf(label, section, topVars) {
  const problems = [];
  for (const namespace of section.kv_namespaces ?? []) {
    for (const field of ["id", "preview_id"]) {
      const id = namespace[field];
      if (id === undefined) continue;
      if (!KV_ID.test(id) || /^(.)\1*$/.test(id)) {
        problems.push(
          `${label}: KV binding ${namespace.binding} has ${field} "${id}", a placeholder; remove it (wrangler ` +
            "provisions the namespace on deploy) or put the id printed by `wrangler kv namespace create`",
        );
      }
    }
  }
  if (topVars) {
    const missing = Object.keys(topVars).filter((name) => !(name in (section.vars ?? {})));
    if (missing.length > 0) problems.push(`${label}: vars missing (not inherited): ${missing.join(", ")}`);
  }
  return problems;
}

const requested = process.argv.indexOf("--env");
const environments = requested > 0 ? [process.argv[requested + 1]] : DEPLOYED_ENVIRONMENTS;
const { rawConfig } = experimental_readRawConfig({ config: configPath });
const problems = problemsOf("top level", rawConfig, null);
for (const name of environments) {
  const section = rawConfig.env?.[name];
  if (!section) problems.push(`no [env.${name}] in ${configPath}`);
  else problems.push(...problemsOf(`[env.${name}]`, section, rawConfig.vars ?? {}));
}
if (problems.length > 0) {
  console.error(`check:deploy failed:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/** `wrangler deploy --dry-run` for one environment: bundles and checks the configuration, uploads nothing. */
function dryRun(name) {
  const outdir = mkdtempSync(join(tmpdir(), `ekm-dry-run-${name}-`));
  const args = ["deploy", "--dry-run", "--config", configPath, "--env", name, "--outdir", outdir];
  const child = spawn(join(root, "node_modules/.bin/wrangler"), args, { cwd: root, env });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  return new Promise((resolve) => {
    child.on("close", (status) => {
      rmSync(outdir, { recursive: true, force: true });
      resolve({ name, status, output });
    });
  });
}

let failed = false;
for (const { name, status, output } of await Promise.all(environments.map(dryRun))) {
  if (status !== 0) {
    failed = true;
    console.error(`wrangler deploy --dry-run --env ${name} failed:\n${output}`);
  } else {
    console.log(`check:deploy: --env ${name} bundles (${/Total Upload: ([^\n]+)/.exec(output)?.[1] ?? "?"})`);
  }
}
process.exit(failed ? 1 : 0);
