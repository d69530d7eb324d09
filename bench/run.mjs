#!/usr/bin/env node
// `npm run bench`: drives every hot path of the key manager under load against `wrangler dev`, next to three
// baselines on the same runtime, and writes BENCHMARKS.md. See BENCHMARKS.md ("Method") for what is measured.
//
// Options: --duration <s> (10)  --connections <n> (32)  --warmup <s> (2)  --tool wrk|autocannon
//          --out <file> (BENCHMARKS.md)  --no-spread (skip the shard-spread test)  --proxy (load wrangler's
//          public port, through its dev proxy, instead of the runtime's own socket)  --inspector (keep wrangler's
//          devtools inspector attached)  --state-dir <dir> (/dev/shm)  --quick (3 s scenarios)
//
// Only some token paths: `npm run bench -- refresh [cc cc-jwt password] [--repeat 3]` runs just those, each
// between runs of the one-DO-write baseline, --repeat times over, and prints every run's ratios and their median
// (it writes no BENCHMARKS.md and measures no gateway, revocation or spread figures).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runLoad } from "./lib/load.mjs";
import { cpuDelta, cpuSnapshot } from "./lib/proc.mjs";
import { writeReport } from "./lib/report.mjs";
import { ROOT } from "./lib/server.mjs";
import {
  admin,
  chooseTool,
  FAMILIES,
  formHeaders,
  inBatches,
  log,
  mintRefreshSeeds,
  PASSWORD,
  percentile,
  probeGateway,
  request,
  sequentialLatency,
  setUpKeyManager,
  setUpNoJwtGateway,
  startStack,
  versions,
} from "./lib/stack.mjs";

// ---- options ----------------------------------------------------------------------------------------------

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const flag = (name) => process.argv.includes(`--${name}`);
const quick = flag("quick");
const DURATION = Number(option("duration", quick ? 3 : 10));
const WARMUP = Number(option("warmup", quick ? 1 : 2));
const CONNECTIONS = Number(option("connections", 32));
const OUT = resolve(ROOT, option("out", "BENCHMARKS.md"));
const SPREAD = !flag("no-spread");
const DIRECT = !flag("proxy");
const INSPECTOR = flag("inspector");
const VALUE_OPTIONS = ["duration", "connections", "warmup", "tool", "out", "state-dir", "repeat"];
/** Positional arguments: the token scenarios to run alone (see the header); none: the whole bench. */
const SELECTED = process.argv
  .slice(2)
  .filter((arg, i, all) => !arg.startsWith("--") && !VALUE_OPTIONS.includes(all[i - 1]?.slice(2) ?? ""));
const REPEAT = Number(option("repeat", 1));

const HOT_TOKENS = 100;
const INTROSPECT_TOKENS = 1000;
const REVOKE_CHECKS = 50;
const SEQUENTIAL = 200;

// ---- scenarios --------------------------------------------------------------------------------------------

/**
 * Runs one scenario: an optional warm-up, then the measured run, with the CPU time each process used.
 * `cpu` maps a label to a pid; the first entry is the runtime that serves the scenario.
 */
async function measure(context, def) {
  const spec = { connections: CONNECTIONS, duration: DURATION, tool: context.tool, ...def.spec };
  if (def.warmup !== false && WARMUP > 0 && spec.mode !== "consume" && spec.mode !== "chain") {
    await runLoad({ ...spec, duration: WARMUP, collect: undefined });
  }
  const before = cpuSnapshot(def.cpu);
  const startedAt = Date.now();
  const result = await runLoad(spec);
  const used = cpuDelta(before, cpuSnapshot(def.cpu));
  const [runtimeName] = Object.keys(def.cpu);
  const cpuMsPerRequest =
    result.requests > 0 && used[runtimeName] !== null ? used[runtimeName] / result.requests : null;
  const row = {
    id: def.id,
    name: def.name,
    group: def.group,
    baselines: def.baselines ?? [],
    note: def.note ?? "",
    startedAt,
    ...result,
    collected: undefined,
    cpuMsPerRequest,
    cpu: Object.fromEntries(
      Object.entries(used).map(([k, v]) => [
        k,
        v === null || result.requests === 0 ? null : v / result.requests,
      ]),
    ),
  };
  const errorRate = result.requests > 0 ? result.bad / result.requests : 1;
  if (def.group === "baseline" && errorRate > 0.5) {
    throw new Error(`baseline ${def.id} answered unexpectedly ${(errorRate * 100).toFixed(0)}% of the time`);
  }
  if (errorRate > 0.01) row.note = `${row.note} ${(errorRate * 100).toFixed(1)}% unexpected answers`.trim();
  if (result.exhausted)
    row.note = `${row.note} (ran ${result.seconds.toFixed(1)} s: pre-issued tokens used up)`.trim();
  log(
    `${def.id.padEnd(18)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms` +
      `  cpu ${cpuMsPerRequest?.toFixed(3) ?? "?"} ms/req  ok ${result.ok} bad ${result.bad}${result.exhausted ? " (exhausted)" : ""}` +
      `  [${Object.entries(row.cpu)
        .map(([k, v]) => `${k} ${v?.toFixed(3) ?? "?"}`)
        .join(", ")}]`,
  );
  context.rows.push(row);
  return { row, collected: result.collected };
}

function unavailable(context, def, reason) {
  log(`${def.id.padEnd(18)} not available: ${reason}`);
  context.rows.push({
    id: def.id,
    name: def.name,
    group: def.group,
    baselines: def.baselines ?? [],
    unavailable: reason,
  });
}

/** Runs one baseline; repeated runs of the same one are numbered (`base-json`, `base-json@2`, ...). */
function baselineRunner(context) {
  const { baseline, backend } = context.servers;
  const cpu = { runtime: baseline.runtime, wrangler: baseline.node, proxy: baseline.proxy };
  const tokens = context.baselineTokens;
  const rounds = new Map();
  const run = (id, name, spec, extraCpu = {}) => {
    const round = (rounds.get(id) ?? 0) + 1;
    rounds.set(id, round);
    return measure(context, {
      id: round === 1 ? id : `${id}@${round}`,
      group: "baseline",
      name,
      cpu: { ...cpu, ...extraCpu },
      spec,
    });
  };
  return {
    json: () =>
      run("base-json", "Baseline: bare Hono route returning JSON", { url: `${baseline.origin}/json` }),
    hashKv: () =>
      run("base-hash-kv", "Baseline: bearer token, SHA-256, one KV get", {
        url: `${baseline.origin}/hash-kv`,
        headers: { Authorization: "Bearer @@" },
        mode: "cycle",
        items: tokens,
      }),
    doWrite: () =>
      run("base-do-write", "Baseline: parse a form, one SQLite Durable Object write", {
        url: `${baseline.origin}/do-write`,
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials&client_id=benchclient",
      }),
    pbkdf2DoWrite: () =>
      run(
        "base-pbkdf2-do-write",
        "Baseline: parse a form, PBKDF2 (100,000 iterations), one SQLite DO write",
        {
          url: `${baseline.origin}/pbkdf2-do-write`,
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: `grant_type=password&username=benchuser0&password=${encodeURIComponent(PASSWORD)}`,
        },
      ),
    hashKvFetch: () =>
      run(
        "base-hash-kv-fetch",
        "Baseline: bearer, SHA-256, one KV get, forward to the local backend",
        {
          url: `${baseline.origin}/hash-kv-fetch/ping`,
          headers: { Authorization: "Bearer @@" },
          mode: "cycle",
          items: tokens,
        },
        { backend: backend.pid },
      ),
  };
}

// ---- the run ----------------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const tool = chooseTool(option("tool", null));
  const info = versions(tool);
  log(`tool ${info.tool}, ${CONNECTIONS} connections, ${DURATION} s per scenario (+${WARMUP} s warm-up)`);
  // Local Durable Object and KV state on tmpfs where there is one: a shared VM disk's fsync stalls are noise here.
  const stateRoot = option("state-dir", existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
  const workDir = mkdtempSync(join(stateRoot, "ekm-bench-"));
  info.stateDir = stateRoot;
  const context = { tool, rows: [], servers: {}, info };
  let stack = null;
  try {
    log("bundling the key manager and the baseline worker, starting them");
    stack = await startStack({ workDir, direct: DIRECT, inspector: INSPECTOR, noJwt: SELECTED.length === 0 });
    const { main: mainServer, baseline, backend } = stack.servers;
    context.servers = stack.servers;
    context.info.direct = mainServer.direct && baseline.direct;
    context.info.inspector = INSPECTOR;
    log(
      `key manager at ${mainServer.origin} (workerd ${mainServer.runtime}), baseline at ${baseline.origin}`,
    );

    // Baseline tokens: cached "validations" the hash+KV routes find.
    context.baselineTokens = Array.from({ length: HOT_TOKENS }, (_, i) => `baseline.${i}.${"x".repeat(43)}`);
    await inBatches(HOT_TOKENS, 16, (i) =>
      request(baseline.origin, "POST", "/seed", {
        headers: { Authorization: `Bearer ${context.baselineTokens[i]}` },
      }),
    );
    await setUpKeyManager(context);

    // Each scenario runs between two runs of the baselines it is compared with, and is compared with those two
    // (the nearest in time), so that a machine that gets busier or quieter during the run moves both alike.
    const base = baselineRunner(context);
    const km = mainServer.origin;
    const cpu = { runtime: mainServer.runtime, wrangler: mainServer.node, proxy: mainServer.proxy };
    const tokenRequest = (body, extra = {}) => ({
      url: `${km}/token`,
      method: "POST",
      headers: formHeaders(context.basic),
      body,
      ...extra,
    });

    log("token endpoints, each between runs of the one-DO-write baseline");
    const scenarios = {
      cc: () => ({
        id: "cc",
        group: "token",
        name: "client_credentials issuance",
        baselines: ["base-do-write"],
        cpu,
        warmup: true,
        spec: tokenRequest("grant_type=client_credentials", { collect: "access_token" }),
      }),
      "cc-jwt": () => ({
        id: "cc-jwt",
        group: "token",
        name: "client_credentials issuance, JWT access tokens (RFC 9068, ES256)",
        baselines: ["base-do-write"],
        cpu,
        spec: { ...tokenRequest("grant_type=client_credentials"), headers: formHeaders(context.jwtBasic) },
      }),
      refresh: () => ({
        id: "refresh",
        group: "token",
        name: "refresh rotation (each request a distinct live refresh token)",
        baselines: ["base-do-write"],
        cpu,
        spec: tokenRequest("grant_type=refresh_token&refresh_token=@@", {
          mode: "chain",
          chain: "refresh_token",
          items: context.refreshSeeds,
        }),
      }),
      password: () => ({
        id: "password",
        group: "token",
        name: "password issuance (PBKDF2, 100,000 iterations)",
        baselines: ["base-pbkdf2-do-write", "base-do-write"],
        cpu,
        spec: tokenRequest(`grant_type=password&username=@@&password=${encodeURIComponent(PASSWORD)}`, {
          mode: "cycle",
          items: context.users.map((u) => u.replace(/@carbon\.super$/, "")),
        }),
      }),
    };
    if (SELECTED.length > 0) {
      await runSelected(context, base, scenarios);
      return;
    }

    await base.doWrite();
    const cc1 = await measure(context, scenarios.cc());
    await base.doWrite();
    await measure(context, scenarios["cc-jwt"]());
    await base.doWrite();
    await measure(context, scenarios.refresh());
    await base.doWrite();

    const pool1 = cc1.collected;
    const hotTokens = pool1.slice(0, HOT_TOKENS);
    const introspectTokens = pool1.slice(HOT_TOKENS, HOT_TOKENS + INTROSPECT_TOKENS);
    const revokeTokens = pool1.slice(HOT_TOKENS + INTROSPECT_TOKENS);
    await measure(context, {
      id: "introspect",
      group: "token",
      name: "/introspect (client Basic auth, active token)",
      baselines: ["base-do-write"],
      cpu,
      spec: {
        url: `${km}/introspect`,
        method: "POST",
        headers: formHeaders(context.basic),
        body: "token=@@",
        mode: "cycle",
        items: introspectTokens,
      },
    });
    await base.doWrite();
    await base.pbkdf2DoWrite();
    await measure(context, scenarios.password());
    await base.pbkdf2DoWrite();

    // Gateway: a cache hit (the same 100 tokens, validated during the warm-up) and a miss (a distinct token never
    // validated before, for every request: pre-issued by a second client_credentials run).
    log("gateway, between runs of its baselines");
    const gatewayProblem = await probeGateway(context, hotTokens[0]);
    const gatewayUrl = `${km}${context.gatewayPath ?? "/bench/1.0.0/ping"}`;
    await base.json();
    await base.hashKv();
    await base.hashKvFetch();
    await measure(context, {
      id: "backend-direct",
      group: "gateway",
      name: "Local backend called directly (no gateway)",
      cpu: { backend: backend.pid },
      spec: { url: `${backend.origin}/ping` },
    });
    const gwHit = {
      id: "gw-hit",
      group: "gateway",
      name: "Gateway call, validation cache hit (→ local backend)",
      baselines: ["base-hash-kv", "base-json", "base-hash-kv-fetch", "backend-direct"],
      cpu: { ...cpu, backend: backend.pid },
      spec: { url: gatewayUrl, headers: { Authorization: "Bearer @@" }, mode: "cycle", items: hotTokens },
    };
    if (gatewayProblem) unavailable(context, gwHit, gatewayProblem);
    else await measure(context, gwHit);
    await base.hashKvFetch();
    // The same warm call for an application whose subscription and application tiers both limit it (a quota it
    // never reaches): each isolate leases permits in batches; the counters say how many lease calls they served.
    const gwLimited = {
      id: "gw-limited",
      group: "gateway",
      name: "Gateway call, validation cache hit, limited tier not reached (→ local backend)",
      baselines: ["base-hash-kv-fetch"],
      cpu: { ...cpu, backend: backend.pid },
      spec: {
        url: gatewayUrl,
        headers: { Authorization: "Bearer @@" },
        mode: "cycle",
        items: context.limitedTokens ?? [],
      },
    };
    if (gatewayProblem || !context.limitedTokens)
      unavailable(context, gwLimited, gatewayProblem ?? "no tiers");
    else {
      const before = await counterLeases(context);
      const { row } = await measure(context, gwLimited);
      const after = await counterLeases(context);
      // Warm-up and measured run together: every call of both took a permit from both counters.
      row.throttle = { leases: after.leases - before.leases, used: after.used - before.used, counters: 2 };
      log(`gw-limited: ${row.throttle.leases} lease calls for ${row.throttle.used / 2} calls (2 counters)`);
    }
    await base.hashKvFetch();
    // The same call on a key manager with JWT_GENERATION=false (no X-JWT-Assertion), between the same baselines.
    const noJwtTokens = await setUpNoJwtGateway(context, HOT_TOKENS);
    const noJwt = context.servers.mainNoJwt;
    const gwHitNoJwt = {
      id: "gw-hit-nojwt",
      group: "gateway",
      name: "Gateway call, validation cache hit, JWT_GENERATION=false (→ local backend)",
      baselines: ["base-hash-kv-fetch"],
      cpu: { runtime: noJwt?.runtime, wrangler: noJwt?.node, proxy: noJwt?.proxy, backend: backend.pid },
      spec: {
        url: `${noJwt?.origin}${context.gatewayPath ?? "/bench/1.0.0/ping"}`,
        headers: { Authorization: "Bearer @@" },
        mode: "cycle",
        items: noJwtTokens ?? [],
      },
    };
    if (gatewayProblem || !noJwtTokens) unavailable(context, gwHitNoJwt, gatewayProblem ?? "not started");
    else await measure(context, gwHitNoJwt);
    await base.hashKvFetch();
    await base.hashKv();
    await base.json();

    const cc2 = await measure(context, {
      id: "cc-2",
      group: "token",
      name: "client_credentials issuance (second run; mints the cache-miss tokens)",
      baselines: ["base-do-write"],
      cpu,
      warmup: false,
      spec: tokenRequest("grant_type=client_credentials", { collect: "access_token" }),
    });
    const checkTokens = cc2.collected.slice(0, REVOKE_CHECKS);
    const missTokens = cc2.collected.slice(REVOKE_CHECKS);
    const gwMiss = {
      id: "gw-miss",
      group: "gateway",
      name: "Gateway call, cache miss (distinct never-validated token each call)",
      baselines: ["base-hash-kv", "base-json"],
      cpu: { ...cpu, backend: backend.pid },
      spec: { url: gatewayUrl, headers: { Authorization: "Bearer @@" }, mode: "consume", items: missTokens },
    };
    // The tokens the cache-miss run presented are now validated and cached: the second /revoke run's.
    let cachedTokens = [];
    if (gatewayProblem) unavailable(context, gwMiss, gatewayProblem);
    else cachedTokens = missTokens.slice(0, Math.max(0, (await measure(context, gwMiss)).row.requests - 8));
    await base.hashKv();
    await base.json();

    log("revocation, between runs of the one-DO-write baseline");
    const revokeSpec = (items) => ({
      url: `${km}/revoke`,
      method: "POST",
      headers: formHeaders(context.basic),
      body: "token=@@&token_type_hint=access_token",
      mode: "consume",
      items,
      expect: { status: 200, header: "RevokedAccessToken" },
    });
    await base.doWrite();
    await measure(context, {
      id: "revoke",
      group: "token",
      name: "/revoke (distinct live access token each call, never used at the gateway)",
      baselines: ["base-do-write"],
      cpu,
      spec: revokeSpec(revokeTokens),
    });
    await base.doWrite();
    const revokeCached = {
      id: "revoke-cached",
      group: "token",
      name: "/revoke (distinct live access token each call, validation cached by the gateway)",
      baselines: ["base-do-write"],
      cpu,
      spec: revokeSpec(cachedTokens),
    };
    if (gatewayProblem) unavailable(context, revokeCached, gatewayProblem);
    else if (cachedTokens.length < 100)
      unavailable(context, revokeCached, "too few gateway-validated tokens");
    else await measure(context, revokeCached);
    await base.doWrite();

    context.revocation = await revocationCheck(context, checkTokens, gatewayProblem);
    context.accuracy = gatewayProblem ? { unavailable: gatewayProblem } : await accuracyCheck(context);

    context.info.loadAfter = loadavg()
      .map((n) => n.toFixed(2))
      .join(" ");
  } finally {
    await stack?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  if (SELECTED.length > 0) return;

  if (SPREAD) context.spread = runSpreadTest();
  context.info.seconds = Math.round((Date.now() - started) / 1000);
  context.settings = {
    duration: DURATION,
    warmup: WARMUP,
    connections: CONNECTIONS,
    argv: process.argv.slice(2),
  };
  writeReport(OUT, context);
  log(`wrote ${OUT} (${context.info.seconds} s in all)`);
}

/**
 * `npm run bench -- <scenario>...`: the selected token scenarios only, each between runs of the one-DO-write
 * baseline, REPEAT times over; prints each run's ratios to the baseline runs just before and after it, and the
 * median of each scenario's runs. A refresh run after the first rotates families minted for it.
 */
async function runSelected(context, base, scenarios) {
  const unknown = SELECTED.filter((id) => !scenarios[id]);
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario(s) ${unknown.join(", ")}; choose from ${Object.keys(scenarios).join(", ")}`,
    );
  }
  const runs = [];
  // The password grant is held to form + PBKDF2 + one DO write (PBKDF2 sets its floor), the others to form +
  // one DO write.
  const baselineOf = (id) => (id === "password" ? base.pbkdf2DoWrite : base.doWrite);
  for (let round = 1; round <= REPEAT; round++) {
    for (const id of SELECTED) {
      if (id === "refresh" && round > 1) context.refreshSeeds = await mintRefreshSeeds(context, FAMILIES);
      const before = (await baselineOf(id)()).row;
      const { row } = await measure(context, { ...scenarios[id](), warmup: id !== "refresh" });
      const after = (await baselineOf(id)()).row;
      const mean = (key) => (before[key] + after[key]) / 2;
      runs.push({
        id,
        rps: row.rps / mean("rps"),
        p99: row.p99 / mean("p99"),
        cpu: mean("cpuMsPerRequest") / row.cpuMsPerRequest,
      });
    }
  }
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  log(
    "ratios to form + one DO write, password to form + PBKDF2 + one DO write (req/s ratio, p99 ×, CPU ratio):",
  );
  for (const id of SELECTED) {
    const mine = runs.filter((r) => r.id === id);
    const each = mine.map((r) => `${r.rps.toFixed(2)}/${r.p99.toFixed(2)}×/${r.cpu.toFixed(2)}`).join("  ");
    log(
      `${id.padEnd(10)} ${each}  median: req/s ${median(mine.map((r) => r.rps)).toFixed(2)}, ` +
        `p99 ${median(mine.map((r) => r.p99)).toFixed(2)}×, CPU ${median(mine.map((r) => r.cpu)).toFixed(2)}`,
    );
  }
}

/**
 * Revocation followed by a gateway call: each token is validated by the gateway (so its validation is cached),
 * revoked, and presented again at once; the second call must be refused. Also times what the purge costs.
 */
async function revocationCheck(context, tokens, gatewayProblem) {
  const { main, baseline } = context.servers;
  const result = { checked: 0, refused: 0, unavailable: gatewayProblem ?? null };
  const revoke = (token) =>
    request(main.origin, "POST", "/revoke", {
      headers: formHeaders(context.basic),
      body: `token=${token}&token_type_hint=access_token`,
    });
  const half = Math.floor(tokens.length / 2);
  if (!gatewayProblem) {
    const statuses = {};
    const times = []; // the revocation only; the gateway calls around it are not part of the figure
    for (const token of tokens.slice(0, half)) {
      const headers = { Authorization: `Bearer ${token}` };
      const first = await request(main.origin, "GET", context.gatewayPath, { headers });
      const start = performance.now();
      const revoked = await revoke(token);
      times.push(performance.now() - start);
      const second = await request(main.origin, "GET", context.gatewayPath, { headers });
      result.checked += 1;
      if (first.status === 200 && revoked.headers.get("RevokedAccessToken") && second.status === 401)
        result.refused += 1;
      else {
        const key = `${first.status}/${revoked.status}/${second.status}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
    }
    result.cachedRevoke = { count: times.length, p50: percentile(times, 50), p99: percentile(times, 99) };
    result.failures = statuses;
  }
  const uncached = tokens.slice(half);
  result.uncachedRevoke = await sequentialLatency(uncached.length, (i) => revoke(uncached[i]));
  result.kvPut = await sequentialLatency(SEQUENTIAL, () => request(baseline.origin, "POST", "/kv-put"));
  result.kvDelete = await sequentialLatency(SEQUENTIAL, () => request(baseline.origin, "POST", "/kv-delete"));
  result.json = await sequentialLatency(SEQUENTIAL, () => request(baseline.origin, "GET", "/json"));
  log(
    `revocation check: ${result.refused}/${result.checked} refused at once; revoke p50 ${result.cachedRevoke?.p50?.toFixed(2) ?? "-"} ms (cached), ` +
      `${result.uncachedRevoke.p50?.toFixed(2)} ms (never validated); one KV put adds ~${(result.kvPut.p50 - result.json.p50).toFixed(2)} ms, one KV delete ~${(result.kvDelete.p50 - result.json.p50).toFixed(2)} ms`,
  );
  return result;
}

/** Lease calls and permits the limited application's counters (application + subscription) served so far. */
async function counterLeases(context) {
  const usage = await admin(
    context.servers.main.origin,
    "GET",
    `/applications/${context.limitedApp.id}/usage`,
  );
  const counters = [usage.application, ...usage.subscriptions];
  return {
    leases: counters.reduce((sum, counter) => sum + counter.leases, 0),
    used: counters.reduce((sum, counter) => sum + counter.used, 0),
  };
}

/**
 * Throttling accuracy: 1,000 calls from 64 concurrent connections against a tier of 100 calls a minute; exactly
 * 100 may pass (the rest 429).
 */
async function accuracyCheck(context) {
  const { main } = context.servers;
  const statuses = {};
  let sent = 0;
  const started = performance.now();
  const connection = async () => {
    while (sent < 1000) {
      sent += 1;
      const answer = await request(main.origin, "GET", context.gatewayPath, {
        headers: { Authorization: `Bearer ${context.accuracyToken}` },
      });
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 64 }, connection));
  const result = {
    calls: sent,
    passed: statuses[200] ?? 0,
    statuses,
    seconds: (performance.now() - started) / 1000,
  };
  log(
    `throttling accuracy: ${result.passed} of ${result.calls} calls passed a 100/min tier ${JSON.stringify(statuses)}`,
  );
  return result;
}

/**
 * Runs test/durable/shard-spread.test.ts and test/durable/user-store.test.ts and reads the spreads they print:
 * one client's tokens over its shards, and users over the user stores.
 */
function runSpreadTest() {
  log("shard spread: vitest run test/durable/shard-spread.test.ts test/durable/user-store.test.ts");
  const started = Date.now();
  const run = spawnSync(
    join(ROOT, "node_modules/.bin/vitest"),
    ["run", "test/durable/shard-spread.test.ts", "test/durable/user-store.test.ts"],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CI: "true" },
      timeout: 240_000,
    },
  );
  const output = `${run.stdout ?? ""}${run.stderr ?? ""}`;
  const line = output.split("\n").find((l) => l.includes("SHARD_SPREAD "));
  const seconds = (Date.now() - started) / 1000;
  if (!line) return { error: `no result (exit ${run.status}): ${output.slice(-600)}`, seconds };
  const spread = JSON.parse(line.slice(line.indexOf("SHARD_SPREAD ") + "SHARD_SPREAD ".length));
  const usersLine = output.split("\n").find((l) => l.includes("USER_STORE_SPREAD "));
  const prefix = "USER_STORE_SPREAD ";
  spread.userStores = usersLine
    ? JSON.parse(usersLine.slice(usersLine.indexOf(prefix) + prefix.length))
    : null;
  log(
    `shard spread: max/mean ${spread.maxOverMean.toFixed(3)} over ${spread.shards} shards (${seconds.toFixed(0)} s)`,
  );
  return { ...spread, passed: run.status === 0, seconds };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
