// What bench/run.mjs and bench/profile.mjs share: the servers under test, the admin set-up, HTTP helpers.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { wrkAvailable } from "./load.mjs";
import { freezeWorker, ROOT, startWorker } from "./server.mjs";

// Only ports 8900-8919: the key manager, the baseline worker, their inspectors, the backend.
export const PORTS = {
  main: 8900,
  mainInspector: 8901,
  backend: 8902,
  baseline: 8903,
  baselineInspector: 8904,
  mainNoJwt: 8905,
  mainNoJwtInspector: 8906,
  sqlCost: 8907,
  sqlCostInspector: 8908,
};
export const ADMIN_TOKEN = "bench-admin-token";
export const PASSWORD = "bench-Passw0rd!";
export const USERS = 64;
export const FAMILIES = 512;

export const log = (...parts) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

// ---- load tool --------------------------------------------------------------------------------------------

export function chooseTool(wanted) {
  if (wanted === "autocannon") return "autocannon";
  if (wrkAvailable()) return "wrk";
  if (wanted !== "wrk" && process.getuid?.() === 0) {
    log("wrk is not installed; trying apt-get install -y wrk (falls back to autocannon)");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    let installed = spawnSync("apt-get", ["install", "-y", "wrk"], {
      stdio: "ignore",
      env,
      timeout: 120_000,
    });
    if (installed.status !== 0) {
      spawnSync("apt-get", ["update"], { stdio: "ignore", env, timeout: 120_000 });
      installed = spawnSync("apt-get", ["install", "-y", "wrk"], { stdio: "ignore", env, timeout: 120_000 });
    }
    if (installed.status === 0 && wrkAvailable()) return "wrk";
  }
  if (wanted === "wrk") throw new Error("--tool wrk asked for, but wrk is not installed");
  log("using autocannon (wrk unavailable): the load generator then shares a core with node's event loop");
  return "autocannon";
}

export function versions(tool) {
  const pkg = (name) =>
    JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  let toolVersion = tool === "autocannon" ? `autocannon ${pkg("autocannon")}` : "wrk";
  if (tool === "wrk") {
    const banner = spawnSync("wrk", ["--version"]).stdout?.toString() ?? "";
    toolVersion =
      banner
        .split("\n")[0]
        ?.replace(/\s*Copyright.*$/, "")
        .trim() || "wrk";
  }
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: ROOT })
      .toString()
      .trim();
    if (dirty) commit += " + uncommitted changes in src/";
  } catch {
    // not a git checkout
  }
  return {
    node: process.version,
    wrangler: pkg("wrangler"),
    workerd: pkg("workerd"),
    miniflare: pkg("miniflare"),
    hono: pkg("hono"),
    tool: toolVersion,
    commit,
    cpu: `${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length}`,
    loadBefore: loadavg()
      .map((n) => n.toFixed(2))
      .join(" "),
  };
}

// ---- HTTP helpers -----------------------------------------------------------------------------------------

/**
 * One HTTP call. A kept-alive socket the server closed just as it was reused fails before the request is
 * answered ("other side closed"): such a call is sent again, at most twice.
 */
export async function request(origin, method, path, { headers = {}, body } = {}) {
  let response;
  for (let attempt = 0; ; attempt++) {
    try {
      response = await fetch(`${origin}${path}`, { method, headers, body });
      break;
    } catch (error) {
      const code = error?.cause?.code;
      if (attempt >= 2 || !["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"].includes(code)) throw error;
    }
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, text, json };
}

export async function admin(origin, method, path, body) {
  const answer = await request(origin, method, `/admin${path}`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (answer.status >= 300) throw new Error(`${method} /admin${path}: ${answer.status} ${answer.text}`);
  return answer.json;
}

export const formHeaders = (basic) => ({
  "Content-Type": "application/x-www-form-urlencoded",
  Authorization: basic,
});

export async function inBatches(count, size, fn) {
  const results = [];
  for (let start = 0; start < count; start += size) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + size); i++) batch.push(fn(i));
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function sequentialLatency(count, fn) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  return { count, p50: percentile(times, 50), p99: percentile(times, 99) };
}

// ---- servers ----------------------------------------------------------------------------------------------

function startBackend() {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bench/backend.mjs"), String(PORTS.backend)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    child.stdout.once("data", () =>
      resolvePromise({
        pid: child.pid,
        origin: `http://127.0.0.1:${PORTS.backend}`,
        stop: () =>
          new Promise((r) => {
            if (child.exitCode !== null) return r();
            child.once("exit", r);
            child.kill("SIGTERM");
          }),
      }),
    );
    child.once("exit", (code) => reject(new Error(`backend exited (${code})`)));
  });
}

/**
 * Bundles and starts what a run loads: the backend, the key manager and (unless `baseline` is false) the
 * baseline worker. `mainConfig` may name another wrangler.toml of the key manager (e.g. a patched copy);
 * `mainVars` overrides its [vars]. With `noJwt`, a second key manager from the same bundle runs with
 * JWT_GENERATION=false, for the gateway call without X-JWT-Assertion.
 */
export async function startStack({
  workDir,
  direct = true,
  inspector = false,
  baseline = true,
  mainConfig,
  mainVars = {},
  noJwt = false,
}) {
  const stops = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => {});
  };
  try {
    const [frozenMain, frozenBaseline] = await Promise.all([
      freezeWorker(mainConfig ?? join(ROOT, "wrangler.toml"), workDir),
      baseline ? freezeWorker(join(ROOT, "bench/baseline/wrangler.toml"), workDir) : null,
    ]);
    const backend = await startBackend();
    stops.push(backend.stop);
    const main = await startWorker({
      name: "main",
      config: frozenMain,
      port: PORTS.main,
      inspectorPort: PORTS.mainInspector,
      probePath: "/health",
      probeExpect: '{"status":"ok"}',
      vars: { ...mainVars, ADMIN_TOKEN },
      workDir,
      direct,
      inspector,
    });
    stops.push(main.stop);
    let mainNoJwt = null;
    if (noJwt) {
      mainNoJwt = await startWorker({
        name: "main-nojwt",
        config: frozenMain,
        port: PORTS.mainNoJwt,
        inspectorPort: PORTS.mainNoJwtInspector,
        probePath: "/health",
        probeExpect: '{"status":"ok"}',
        vars: { ...mainVars, JWT_GENERATION: "false", ADMIN_TOKEN },
        workDir,
        direct,
        inspector,
      });
      stops.push(mainNoJwt.stop);
    }
    let base = null;
    if (frozenBaseline) {
      base = await startWorker({
        name: "baseline",
        config: frozenBaseline,
        port: PORTS.baseline,
        inspectorPort: PORTS.baselineInspector,
        probePath: "/json",
        probeExpect: '{"ok":true}',
        vars: { BACKEND: backend.origin },
        workDir,
        direct,
        inspector,
      });
      stops.push(base.stop);
    }
    return { servers: { main, mainNoJwt, baseline: base, backend }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Refresh-token families seed the rotation scenario (each rotation queues its successor): `count` of them, from
 * password grants spread over the bench users, several per user, so that no family is rotated more than a few
 * dozen times in a run.
 */
export async function mintRefreshSeeds(context, count) {
  return inBatches(count, 8, async (i) => {
    const answer = await request(context.servers.main.origin, "POST", "/token", {
      headers: formHeaders(context.basic),
      body: `grant_type=password&username=benchuser${i % USERS}&password=${encodeURIComponent(PASSWORD)}`,
    });
    if (answer.status !== 200) throw new Error(`password grant: ${answer.status} ${answer.text}`);
    return answer.json.refresh_token;
  });
}

// ---- admin set-up -----------------------------------------------------------------------------------------

export async function setUpKeyManager(context) {
  const { main, backend } = context.servers;
  const origin = main.origin;
  await admin(origin, "POST", "/users", { username: "benchowner", password: PASSWORD });
  const app = await admin(origin, "POST", "/applications", { name: "bench", owner: "benchowner" });
  const keys = app.keys.PRODUCTION;
  const jwtApp = await admin(origin, "POST", "/applications", {
    name: "bench-jwt",
    owner: "benchowner",
    accessTokenFormat: "JWT",
  });
  context.jwtBasic = basicOf(jwtApp.keys.PRODUCTION);
  context.app = app;
  context.keys = keys;
  context.basic = basicOf(keys);
  log(
    `application ${app.id}: ${app.shards ?? "?"} shards; ${USERS} users, ${FAMILIES} refresh-token families (PBKDF2 each)`,
  );
  context.users = await inBatches(USERS, 8, async (i) => {
    const created = await admin(origin, "POST", "/users", { username: `benchuser${i}`, password: PASSWORD });
    return created.username;
  });
  context.refreshSeeds = await mintRefreshSeeds(context, FAMILIES);
  // The gateway's API and subscription (README "Gateway"); recorded as unavailable if this fails.
  try {
    const api = await admin(origin, "POST", "/apis", {
      name: "BenchAPI",
      context: "/bench",
      version: "1.0.0",
      productionEndpoint: backend.origin,
    });
    await admin(origin, "POST", "/subscriptions", { applicationId: app.id, apiId: api.id });
    context.gatewayPath = "/bench/1.0.0/ping";
    // Throttling (README "Throttling"): an application limited at both levels by a quota it never reaches, and
    // one subscribed with 100 calls a minute for the accuracy check.
    await admin(origin, "POST", "/tiers", {
      name: "BenchLimited",
      requestCount: 1_000_000_000,
      unitTime: 3600,
    });
    await admin(origin, "POST", "/tiers", { name: "Bench100", requestCount: 100, unitTime: 60 });
    const limited = await admin(origin, "POST", "/applications", {
      name: "bench-limited",
      owner: "benchowner",
      tier: "BenchLimited",
    });
    await admin(origin, "POST", "/subscriptions", {
      applicationId: limited.id,
      apiId: api.id,
      tier: "BenchLimited",
    });
    context.limitedApp = limited;
    context.limitedTokens = await inBatches(100, 16, () =>
      clientCredentials(origin, limited.keys.PRODUCTION),
    );
    const accuracy = await admin(origin, "POST", "/applications", {
      name: "bench-accuracy",
      owner: "benchowner",
    });
    await admin(origin, "POST", "/subscriptions", {
      applicationId: accuracy.id,
      apiId: api.id,
      tier: "Bench100",
    });
    context.accuracyToken = await clientCredentials(origin, accuracy.keys.PRODUCTION);
  } catch (error) {
    context.gatewayProblem = `admin API: ${error.message.split("\n")[0]}`;
  }
}

async function clientCredentials(origin, keys) {
  const answer = await request(origin, "POST", "/token", {
    headers: formHeaders(basicOf(keys)),
    body: "grant_type=client_credentials",
  });
  if (answer.status !== 200) throw new Error(`client_credentials: ${answer.status} ${answer.text}`);
  return answer.json.access_token;
}

const basicOf = (keys) =>
  `Basic ${Buffer.from(`${keys.consumerKey}:${keys.consumerSecret}`).toString("base64")}`;

/**
 * The second key manager (JWT_GENERATION=false): the same API on the same backend, an application subscribed to
 * it, and `count` application tokens for the gateway scenario. Returns the tokens, or null if it is not running.
 */
export async function setUpNoJwtGateway(context, count) {
  const { mainNoJwt, backend } = context.servers;
  if (!mainNoJwt) return null;
  const origin = mainNoJwt.origin;
  await admin(origin, "POST", "/users", { username: "benchowner", password: PASSWORD });
  const app = await admin(origin, "POST", "/applications", { name: "bench", owner: "benchowner" });
  const api = await admin(origin, "POST", "/apis", {
    name: "BenchAPI",
    context: "/bench",
    version: "1.0.0",
    productionEndpoint: backend.origin,
  });
  await admin(origin, "POST", "/subscriptions", { applicationId: app.id, apiId: api.id });
  return inBatches(count, 16, async () => {
    const answer = await request(origin, "POST", "/token", {
      headers: formHeaders(basicOf(app.keys.PRODUCTION)),
      body: "grant_type=client_credentials",
    });
    if (answer.status !== 200) throw new Error(`client_credentials: ${answer.status} ${answer.text}`);
    return answer.json.access_token;
  });
}

export async function probeGateway(context, token) {
  if (context.gatewayProblem) return context.gatewayProblem;
  const answer = await request(context.servers.main.origin, "GET", context.gatewayPath, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (answer.status === 200 && answer.json?.service === "bench-backend") return null;
  return `GET ${context.gatewayPath} with a valid token answered ${answer.status} ${answer.text.slice(0, 120)}`;
}
