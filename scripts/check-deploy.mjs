#!/usr/bin/env node
// `npm run check:deploy [-- --env production]`: what must hold before a real deploy (README "Deploy to Cloudflare").
// 1. No KV namespace id is a placeholder: a binding has either a real 32-hex-digit id or none at all (then
//    `wrangler deploy` provisions the namespace itself). An id like 000…0 would otherwise deploy silently and
//    fail only at the first gateway call.
// 2. Every environment declares the same vars as the top level (wrangler does not inherit them, and an
//    environment missing one would silently run on the code's default).
// 3. [env.production] runs as ENVIRONMENT = "production" (the Worker then refuses to serve without ISSUER), and a
//    deploy of an environment (`--env <name>`, as `npm run deploy:<env>` does) refuses an ISSUER that is not an
//    https origin or is still an RFC 2606 example host: the issuer is what tokens and metadata call the service
//    (RFC 8414 §2), so it must be the real host before clients see it. Inside `npm test` the shipped
//    placeholder is reported as a note, not a failure.
// 4. `wrangler deploy --dry-run` bundles the Worker for each environment (and, without --env, for the top level
//    that `npm run deploy` deploys), so a broken bundle fails here.
// Runs inside `npm test` for the top level, staging and production; `npm run deploy` runs it so too, and
// `npm run deploy:<env>` for that environment only.
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
/** RFC 2606 §3 reserved example hosts: a placeholder, never a real issuer. */
const EXAMPLE_HOST = /(^|\.)example\.(com|net|org)$|\.example$|^example$/;

/** Problems with the issuer of one environment about to be deployed. */
function issuerProblems(label, section) {
  const vars = section.vars ?? {};
  if (vars.ENVIRONMENT !== "production") return [];
  let url;
  try {
    url = new URL(vars.ISSUER ?? "");
  } catch {
    return [
      `${label}: ENVIRONMENT is production but ISSUER is not set to an origin such as https://keys.example.com`,
    ];
  }
  if (url.protocol !== "https:") return [`${label}: ISSUER "${vars.ISSUER}" must use https (RFC 8414 §2)`];
  if (EXAMPLE_HOST.test(url.hostname)) {
    return [
      `${label}: ISSUER "${vars.ISSUER}" is a placeholder; set it to the https origin clients reach this ` +
        'environment at (README "Deploy to Cloudflare", step 5)',
    ];
  }
  return [];
}

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
const notes = [];
if (rawConfig.env?.production && rawConfig.env.production.vars?.ENVIRONMENT !== "production") {
  problems.push('[env.production]: vars must set ENVIRONMENT = "production" (then ISSUER is required)');
}
for (const name of environments) {
  const section = rawConfig.env?.[name];
  if (!section) {
    problems.push(`no [env.${name}] in ${configPath}`);
    continue;
  }
  problems.push(...problemsOf(`[env.${name}]`, section, rawConfig.vars ?? {}));
  (requested > 0 ? problems : notes).push(...issuerProblems(`[env.${name}]`, section));
}
for (const note of notes) console.log(`check:deploy: note: ${note} (a deploy refuses this)`);
if (problems.length > 0) {
  console.error(`check:deploy failed:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/**
 * `wrangler deploy --dry-run` for one environment (null: the top level, as `npm run deploy` deploys it):
 * bundles and checks the configuration, uploads nothing.
 */
function dryRun(name) {
  const outdir = mkdtempSync(join(tmpdir(), `ekm-dry-run-${name ?? "top-level"}-`));
  const args = ["deploy", "--dry-run", "--config", configPath, "--outdir", outdir];
  if (name !== null) args.push("--env", name);
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
const bundled = requested > 0 ? environments : [null, ...environments];
for (const { name, status, output } of await Promise.all(bundled.map(dryRun))) {
  const what = name === null ? "the top level" : `--env ${name}`;
  if (status !== 0) {
    failed = true;
    console.error(`wrangler deploy --dry-run (${what}) failed:\n${output}`);
  } else {
    console.log(`check:deploy: ${what} bundles (${/Total Upload: ([^\n]+)/.exec(output)?.[1] ?? "?"})`);
  }
}
process.exit(failed ? 1 : 0);
