// `npm run check:deploy` (scripts/check-deploy.mjs) refuses a placeholder KV id and an environment that lacks a
// var, before any bundling: the guard of README "Deploy to Cloudflare".
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../e2e/wrangler-dev.mjs";

/** Runs the check against a copy of wrangler.toml changed by `edit`, written beside the real one. */
function checkEdited(edit, args = []) {
  const dir = mkdtempSync(join(ROOT, ".check-deploy-"));
  const config = join(dir, "wrangler.toml");
  const original = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  writeFileSync(config, edit(original).replace('main = "src/index.ts"', 'main = "../src/index.ts"'));
  try {
    return spawnSync(process.execPath, [join(ROOT, "scripts/check-deploy.mjs"), ...args], {
      cwd: ROOT,
      env: { ...process.env, EKM_WRANGLER_CONFIG: config, WRANGLER_SEND_METRICS: "false" },
      encoding: "utf8",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a placeholder KV id fails the deploy check in every environment", () => {
  const result = checkEdited((toml) =>
    toml.replaceAll(
      'binding = "VALIDATION_CACHE"',
      'binding = "VALIDATION_CACHE"\nid = "00000000000000000000000000000000"',
    ),
  );
  assert.equal(result.status, 1, result.stdout + result.stderr);
  for (const where of ["top level", "[env.staging]", "[env.production]"]) {
    assert.match(
      result.stderr,
      new RegExp(`${where.replace(/[[\]]/g, "\\$&")}: KV binding VALIDATION_CACHE`),
    );
  }
  assert.doesNotMatch(result.stdout, /bundles/);
});

test("an environment without one of the top-level vars fails the deploy check", () => {
  const result = checkEdited((toml) => {
    const at = toml.indexOf("[env.production.vars]");
    return toml.slice(0, at) + toml.slice(at).replace(/^JWT_GENERATION = .*\n/m, "");
  });
  assert.equal(result.status, 1, result.stdout + result.stderr);
  assert.match(result.stderr, /\[env\.production\]: vars missing \(not inherited\): JWT_GENERATION/);
});

test("a production deploy refuses a placeholder or non-https ISSUER, and bundles with a real one", () => {
  const withIssuer = (issuer) => (toml) =>
    toml.replace('ISSUER = "https://keys.example.com"', `ISSUER = "${issuer}"`);
  const placeholder = checkEdited((toml) => toml, ["--env", "production"]);
  assert.equal(placeholder.status, 1, placeholder.stdout + placeholder.stderr);
  assert.match(
    placeholder.stderr,
    /\[env\.production\]: ISSUER "https:\/\/keys\.example\.com" is a placeholder/,
  );
  assert.doesNotMatch(placeholder.stdout, /bundles/);

  const plainHttp = checkEdited(withIssuer("http://keys.acme-corp.com"), ["--env", "production"]);
  assert.equal(plainHttp.status, 1, plainHttp.stdout + plainHttp.stderr);
  assert.match(plainHttp.stderr, /must use https/);

  const real = checkEdited(withIssuer("https://keys.acme-corp.com"), ["--env", "production"]);
  assert.equal(real.status, 0, real.stdout + real.stderr);
  assert.match(real.stdout, /--env production bundles/);
});

test("production must run as ENVIRONMENT = production, so the Worker itself demands ISSUER", () => {
  const result = checkEdited((toml) => toml.replace('ENVIRONMENT = "production"\n', ""));
  assert.equal(result.status, 1, result.stdout + result.stderr);
  assert.match(result.stderr, /\[env\.production\]: vars must set ENVIRONMENT = "production"/);
});

test("npm run deploy is the deploy check, then wrangler deploy of the top level: its --dry-run passes from a clone", () => {
  const outdir = mkdtempSync(join(ROOT, ".deploy-dry-run-"));
  try {
    const result = spawnSync("npm", ["run", "deploy", "--", "--dry-run", "--outdir", outdir], {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /check:deploy: the top level bundles/);
    assert.match(result.stdout, /--dry-run: exiting now/);
    assert.ok(readFileSync(join(outdir, "index.js"), "utf8").length > 0);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
