#!/usr/bin/env node
// Profiles one hot path under load: the same set-up and load as `npm run bench`, with the V8 CPU profiler of
// every worker in the workerd runtime (the key manager's isolate, which also runs its Durable Objects, and
// miniflare's local KV and other internals) running meanwhile. Prints where the CPU time goes.
//
//   node bench/profile.mjs <scenario> [--seconds 8] [--connections 32] [--config path/to/wrangler.toml]
//                                     [--top 30] [--json out.cpuprofile] [--no-profile] [--var NAME=VALUE]
//   scenarios: cc, password, refresh, introspect, revoke (tokens never used at the gateway), revoke-cached
//              (tokens the gateway validated and cached), gw-hit, gw-miss, and the baseline worker's routes:
//              base-json, base-hash-kv, base-do-write, base-hash-kv-fetch
//
// --config runs another wrangler.toml of the key manager (e.g. a patched copy of the tree) to measure a change.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { runLoad } from "./lib/load.mjs";
import { cpuDelta, cpuSnapshot } from "./lib/proc.mjs";
import { listeningPorts } from "./lib/server.mjs";
import {
  chooseTool,
  formHeaders,
  log,
  PASSWORD,
  probeGateway,
  request,
  setUpKeyManager,
  startStack,
} from "./lib/stack.mjs";

if (typeof WebSocket === "undefined") {
  // Node 20 has WebSocket behind a flag; 22 and later have it on.
  const again = spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  process.exit(again.status ?? 1);
}

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const SCENARIO = process.argv[2];
const SECONDS = Number(option("seconds", 8));
const CONNECTIONS = Number(option("connections", 32));
const TOP = Number(option("top", 30));
const CONFIG = option("config", null);
const JSON_OUT = option("json", null);
// Without the profiler: only req/s, latency and CPU per request (the profiler itself adds CPU), e.g. to A/B a change.
const PROFILE = !process.argv.includes("--no-profile");
/** --var NAME=VALUE (repeatable): the key manager's configuration for this run, e.g. GATEWAY_CACHE_TTL=0. */
const VARS = Object.fromEntries(
  process.argv
    .flatMap((arg, i) => (arg === "--var" && process.argv[i + 1] ? [process.argv[i + 1]] : []))
    .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
);
const BASELINES = ["base-json", "base-hash-kv", "base-do-write", "base-hash-kv-fetch"];
const SCENARIOS = [
  "cc",
  "password",
  "refresh",
  "introspect",
  "revoke",
  "revoke-cached",
  "gw-hit",
  "gw-miss",
  ...BASELINES,
];
const PROFILE_BASELINE = BASELINES.includes(SCENARIO);
if (!SCENARIOS.includes(SCENARIO)) {
  console.error(
    `usage: node bench/profile.mjs <${SCENARIOS.join("|")}> [--seconds 8] [--config wrangler.toml]`,
  );
  process.exit(2);
}

// ---- Chrome DevTools protocol ----------------------------------------------------------------------------

async function inspectorTargets(pid) {
  for (const port of listeningPorts(pid)) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/json/list`, {
        signal: AbortSignal.timeout(2000),
      });
      const list = await response.json();
      if (Array.isArray(list) && list.some((t) => t.webSocketDebuggerUrl)) return list;
    } catch {
      // not the inspector
    }
  }
  throw new Error(`no inspector found on workerd ${pid}`);
}

function connect(url) {
  return new Promise((resolvePromise, reject) => {
    const socket = new WebSocket(url);
    const pending = new Map();
    let next = 1;
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      else waiter.resolve(message.result);
    });
    socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)));
    socket.addEventListener("open", () =>
      resolvePromise({
        send(method, params = {}) {
          const id = next++;
          socket.send(JSON.stringify({ id, method, params }));
          return new Promise((res, rej) => pending.set(id, { resolve: res, reject: rej, method }));
        },
        close: () => socket.close(),
      }),
    );
  });
}

// ---- profile arithmetic ----------------------------------------------------------------------------------

function frameName(frame) {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return name;
  return `${name} ${basename(frame.url)}:${frame.lineNumber + 1}`;
}

/** Self samples per function, and inclusive samples (each function once per sample's stack). */
function summarize(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  for (const id of profile.samples) {
    const node = byId.get(id);
    const name = frameName(node.callFrame);
    total += 1;
    if (name === "(idle)") {
      idle += 1;
      continue;
    }
    self.set(name, (self.get(name) ?? 0) + 1);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const frame = frameName(byId.get(at).callFrame);
      if (seen.has(frame) || frame === "(root)") continue;
      seen.add(frame);
      inclusive.set(frame, (inclusive.get(frame) ?? 0) + 1);
    }
  }
  return { self, inclusive, total, busy: total - idle };
}

// ---- scenario set-up -------------------------------------------------------------------------------------

async function mint(context, tool, seconds) {
  const result = await runLoad({
    url: `${context.servers.main.origin}/token`,
    method: "POST",
    headers: formHeaders(context.basic),
    body: "grant_type=client_credentials",
    collect: "access_token",
    connections: CONNECTIONS,
    duration: seconds,
    tool,
  });
  return result.collected;
}

async function scenarioSpec(context, tool) {
  const km = context.servers.main.origin;
  const token = (body, extra = {}) => ({
    url: `${km}/token`,
    method: "POST",
    headers: formHeaders(context.basic),
    body,
    ...extra,
  });
  const gateway = `${km}${context.gatewayPath ?? "/bench/1.0.0/ping"}`;
  const base = context.servers.baseline?.origin;
  const bearer = { Authorization: `Bearer baseline.0.${"x".repeat(43)}` };
  switch (SCENARIO) {
    case "base-json":
      return { url: `${base}/json` };
    case "base-hash-kv":
      return { url: `${base}/hash-kv`, headers: bearer };
    case "base-hash-kv-fetch":
      return { url: `${base}/hash-kv-fetch/ping`, headers: bearer };
    case "base-do-write":
      return {
        url: `${base}/do-write`,
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials&client_id=benchclient",
      };
    case "cc":
      return token("grant_type=client_credentials");
    case "password":
      return token(`grant_type=password&username=@@&password=${encodeURIComponent(PASSWORD)}`, {
        mode: "cycle",
        items: context.users.map((u) => u.replace(/@carbon\.super$/, "")),
      });
    case "refresh":
      return token("grant_type=refresh_token&refresh_token=@@", {
        mode: "chain",
        chain: "refresh_token",
        items: context.refreshSeeds,
      });
    case "introspect":
      return {
        url: `${km}/introspect`,
        method: "POST",
        headers: formHeaders(context.basic),
        body: "token=@@",
        mode: "cycle",
        items: (await mint(context, tool, 1)).slice(0, 1000),
      };
    case "revoke":
      return {
        url: `${km}/revoke`,
        method: "POST",
        headers: formHeaders(context.basic),
        body: "token=@@&token_type_hint=access_token",
        mode: "consume",
        items: await mint(context, tool, SECONDS * 1.5),
        expect: { status: 200, header: "RevokedAccessToken" },
      };
    case "revoke-cached": {
      const items = await mint(context, tool, SECONDS * 1.5);
      const problem = await probeGateway(context, items[0]);
      if (problem) throw new Error(problem);
      const validated = await runLoad({
        url: gateway,
        headers: { Authorization: "Bearer @@" },
        mode: "consume",
        items: items.slice(1),
        connections: CONNECTIONS,
        duration: 120,
        tool,
      });
      log(`validated ${validated.ok} tokens through the gateway`);
      return {
        url: `${km}/revoke`,
        method: "POST",
        headers: formHeaders(context.basic),
        body: "token=@@&token_type_hint=access_token",
        mode: "consume",
        items: items.slice(1, validated.ok - 8),
        expect: { status: 200, header: "RevokedAccessToken" },
      };
    }
    case "gw-hit": {
      const items = (await mint(context, tool, 1)).slice(0, 100);
      const problem = await probeGateway(context, items[0]);
      if (problem) throw new Error(problem);
      const spec = { url: gateway, headers: { Authorization: "Bearer @@" }, mode: "cycle", items };
      await runLoad({ ...spec, connections: CONNECTIONS, duration: 2, tool }); // fills the cache
      return spec;
    }
    case "gw-miss": {
      const items = await mint(context, tool, SECONDS * 1.5);
      const problem = await probeGateway(context, items.pop());
      if (problem) throw new Error(problem);
      return { url: gateway, headers: { Authorization: "Bearer @@" }, mode: "consume", items };
    }
    default:
      throw new Error(`unknown scenario ${SCENARIO}`);
  }
}

// ---- main -------------------------------------------------------------------------------------------------

async function main() {
  const tool = chooseTool(option("tool", null));
  const workDir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "ekm-profile-"));
  let stack = null;
  const sessions = [];
  try {
    stack = await startStack({
      workDir,
      baseline: PROFILE_BASELINE,
      mainConfig: CONFIG ? resolve(process.cwd(), CONFIG) : undefined,
      mainVars: VARS,
    });
    const context = { servers: stack.servers };
    if (PROFILE_BASELINE) {
      await request(stack.servers.baseline.origin, "POST", "/seed", {
        headers: { Authorization: `Bearer baseline.0.${"x".repeat(43)}` },
      });
    } else {
      await setUpKeyManager(context);
    }
    const spec = await scenarioSpec(context, tool);
    if (!["base-do-write", "revoke", "revoke-cached", "gw-miss", "refresh"].includes(SCENARIO)) {
      await runLoad({ ...spec, connections: CONNECTIONS, duration: 1, tool }); // warm-up
    }

    const runtime = (PROFILE_BASELINE ? stack.servers.baseline : stack.servers.main).runtime;
    const targets = PROFILE ? await inspectorTargets(runtime) : [];
    for (const target of targets) {
      const session = await connect(target.webSocketDebuggerUrl);
      await session.send("Profiler.enable");
      await session.send("Profiler.setSamplingInterval", { interval: 250 });
      sessions.push({ target, session });
    }
    for (const { session } of sessions) await session.send("Profiler.start");
    const before = cpuSnapshot({ runtime });
    const result = await runLoad({ ...spec, connections: CONNECTIONS, duration: SECONDS, tool });
    const used = cpuDelta(before, cpuSnapshot({ runtime }));
    const profiles = [];
    for (const { target, session } of sessions) {
      const { profile } = await session.send("Profiler.stop");
      profiles.push({ target, profile, summary: summarize(profile) });
      session.close();
    }

    const cpuPerRequest = used.runtime / result.requests;
    console.log(
      `\n${SCENARIO}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ` +
        `${result.ok} ok / ${result.bad} unexpected; workerd CPU ${cpuPerRequest.toFixed(3)} ms/req` +
        `${CONFIG ? ` (config ${CONFIG})` : ""}${Object.keys(VARS).length ? ` ${JSON.stringify(VARS)}` : ""}`,
    );
    if (!PROFILE) return;
    console.log("(CPU per request includes the profiler's own overhead; --no-profile measures without it)");
    const busyAll = profiles.reduce((sum, p) => sum + p.summary.busy, 0);
    console.log(
      "\nJavaScript-visible busy time per worker of the runtime (share of all profiled busy samples):",
    );
    for (const p of profiles.sort((a, b) => b.summary.busy - a.summary.busy)) {
      if (p.summary.busy === 0) continue;
      const share = p.summary.busy / busyAll;
      console.log(
        `  ${(share * 100).toFixed(1).padStart(5)}%  ~${(share * cpuPerRequest).toFixed(3)} ms/req  ${p.target.title ?? p.target.id}`,
      );
    }
    const main = profiles.find((p) => /edge-key-manager/.test(p.target.title ?? p.target.id)) ?? profiles[0];
    const table = (map, title) => {
      console.log(`\n${title} (key manager's isolate; % of its busy samples, ≈ ms of CPU per request):`);
      const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
      const mainShare = main.summary.busy / busyAll;
      for (const [name, hits] of rows) {
        const share = hits / main.summary.busy;
        console.log(
          `  ${(share * 100).toFixed(1).padStart(5)}%  ${(share * mainShare * cpuPerRequest).toFixed(4)}  ${name}`,
        );
      }
    };
    table(main.summary.self, "Self time");
    table(
      main.summary.inclusive,
      "Inclusive time (synchronous stacks only: time after an await counts where it resumes)",
    );
    if (JSON_OUT) {
      writeFileSync(JSON_OUT, JSON.stringify(main.profile));
      console.log(`\nwrote ${JSON_OUT} (open in Chrome DevTools → Performance, or speedscope)`);
    }
  } finally {
    for (const { session } of sessions) session.close();
    await stack?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  log(error.stack ?? error);
  process.exit(1);
});
