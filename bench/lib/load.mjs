// Drives one scenario with a real load tool: wrk (LuaJIT-scripted) when installed, else autocannon.
//
// A scenario's request is a template; "@@" in its path, a header value or its body is replaced by an item:
//   mode "static":  no items, the same request every time
//   mode "cycle":   items reused round-robin (e.g. an introspected token)
//   mode "consume": each item used once (e.g. a token to revoke); the run ends early when they run out
//   mode "chain":   items seed a queue; each response's `chain` JSON field (e.g. the successor refresh token)
//                   is queued for a later request, so every request presents a distinct, live token
// `collect` names a JSON field of each successful response to hand back (e.g. minted access tokens).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PLACEHOLDER = "@@";

export function wrkAvailable() {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its banner
    return error.status === 1;
  }
}

function luaString(value) {
  return JSON.stringify(value); // ASCII only here: JSON's escapes are Lua's
}

/** Lua expression for a template string: a literal, or the concatenation around the item. */
function luaTemplate(text) {
  if (text === undefined || text === null) return "nil";
  const parts = String(text).split(PLACEHOLDER);
  return parts.map(luaString).join(" .. item .. ");
}

function hasItem(text) {
  return typeof text === "string" && text.includes(PLACEHOLDER);
}

function wrkScript(spec, files) {
  const url = new URL(spec.url);
  const path = url.pathname + url.search;
  const headers = spec.headers ?? {};
  const dynamic = hasItem(path) || hasItem(spec.body) || Object.values(headers).some(hasItem);
  const headerLines = Object.entries(headers)
    .map(([name, value]) => `    [${luaString(name)}] = ${luaTemplate(value)},`)
    .join("\n");
  const expectHeader = spec.expect?.header ? luaString(spec.expect.header.toLowerCase()) : "nil";
  const chainField = spec.chain ? luaString(spec.chain) : "nil";
  const collectField = spec.collect ? luaString(spec.collect) : "nil";
  return `
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local MODE = ${luaString(spec.mode ?? "static")}
local METHOD = ${luaString(spec.method ?? "GET")}
local EXPECT_STATUS = ${Number(spec.expect?.status ?? 200)}
local EXPECT_HEADER = ${expectHeader}
local CHAIN = ${chainField}
local COLLECT = ${collectField}
local ITEMS_FILE = ${luaString(files.items)}
local COLLECT_FILE = ${luaString(files.collect)}
local NTHREADS = ${Number(spec.threads)}

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

ok, bad, first, last, exhausted, sent = 0, 0, 0, 0, 0, 0
local items, pos, queue, out = {}, 0, {}, nil
local static_request = nil

local function build(item)
  local headers = {
${headerLines}
  }
  return wrk.format(METHOD, ${luaTemplate(path)}, headers, ${luaTemplate(spec.body)})
end

function init(args)
  if MODE ~= "static" then
    local n = 0
    for line in io.lines(ITEMS_FILE) do
      if n % NTHREADS == tid then table.insert(items, line) end
      n = n + 1
    end
    if MODE == "chain" then for _, v in ipairs(items) do table.insert(queue, v) end end
  end
  if COLLECT then out = io.open(COLLECT_FILE .. "." .. tid, "w") end
  ${dynamic ? "" : "static_request = build(nil)"}
end

function request()
  if first == 0 then first = now_us() end
  sent = sent + 1
  if static_request then return static_request end
  local item
  if MODE == "cycle" then
    pos = pos % #items + 1
    item = items[pos]
  elseif MODE == "consume" then
    pos = pos + 1
    item = items[pos]
    if item == nil then
      exhausted = 1
      wrk.thread:stop()
      item = items[#items]
    end
  elseif MODE == "chain" then
    item = table.remove(queue, 1)
    if item == nil then
      exhausted = 1
      wrk.thread:stop()
      item = "exhausted"
    end
  end
  return build(item)
end

local function field(body, name)
  return body:match('"' .. name .. '"%s*:%s*"([^"]+)"')
end

function response(status, headers, body)
  last = now_us()
  local good = status == EXPECT_STATUS
  if good and EXPECT_HEADER then
    good = false
    for k, _ in pairs(headers) do
      if string.lower(k) == EXPECT_HEADER then good = true end
    end
  end
  if good then ok = ok + 1 else bad = bad + 1 end
  if CHAIN and status == 200 then
    local nextItem = field(body, CHAIN)
    if nextItem then table.insert(queue, nextItem) end
  end
  if out and status == EXPECT_STATUS then
    local value = field(body, COLLECT)
    if value then out:write(value, "\\n") end
  end
end

function done(summary, latency, requests)
  if out then out:close() end
  local okSum, badSum, firstMin, lastMax, exhaustedAny = 0, 0, nil, 0, 0
  for _, thread in ipairs(threads) do
    okSum = okSum + thread:get("ok")
    badSum = badSum + thread:get("bad")
    local f = thread:get("first")
    if f > 0 and (firstMin == nil or f < firstMin) then firstMin = f end
    local l = thread:get("last")
    if l > lastMax then lastMax = l end
    exhaustedAny = math.max(exhaustedAny, thread:get("exhausted"))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"ok":%d,"bad":%d,"exhausted":%d,"first_us":%.0f,"last_us":%.0f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\\n',
    summary.requests, summary.duration, okSum, badSum, exhaustedAny, firstMin or 0, lastMax,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;
}

function runWrk(spec) {
  const dir = mkdtempSync(join(tmpdir(), "ekm-wrk-"));
  const files = { items: join(dir, "items.txt"), collect: join(dir, "collected") };
  writeFileSync(files.items, `${(spec.items ?? []).join("\n")}\n`);
  const script = join(dir, "scenario.lua");
  writeFileSync(script, wrkScript(spec, files));
  const args = ["-t", String(spec.threads), "-c", String(spec.connections), "-d", `${spec.duration}s`];
  args.push("--timeout", "30s", "--latency", "-s", script, spec.url);
  return new Promise((resolvePromise, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("exit", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith("BENCH_JSON "));
      if (!line) {
        rmSync(dir, { recursive: true, force: true });
        reject(new Error(`wrk exited ${code} without a result:\n${stdout}\n${stderr}`));
        return;
      }
      const raw = JSON.parse(line.slice("BENCH_JSON ".length));
      const collected = [];
      if (spec.collect) {
        for (const name of readdirSync(dir).filter((n) => n.startsWith("collected."))) {
          collected.push(...readFileSync(join(dir, name), "utf8").split("\n").filter(Boolean));
        }
      }
      rmSync(dir, { recursive: true, force: true });
      const exhausted = raw.exhausted === 1;
      // wrk divides by the whole --duration even when a thread stopped early: time the work itself then.
      const seconds = exhausted ? Math.max(0.001, (raw.last_us - raw.first_us) / 1e6) : raw.duration_us / 1e6;
      const completed = raw.ok + raw.bad;
      resolvePromise({
        tool: "wrk",
        requests: completed,
        ok: raw.ok,
        bad: raw.bad,
        seconds,
        rps: completed / seconds,
        p50: raw.p50_us / 1000,
        p90: raw.p90_us / 1000,
        p99: raw.p99_us / 1000,
        max: raw.max_us / 1000,
        exhausted,
        socketErrors: raw.errors.connect + raw.errors.read + raw.errors.write + raw.errors.timeout,
        collected,
      });
    });
    child.on("error", reject);
  });
}

function fill(text, item) {
  return typeof text === "string" ? text.split(PLACEHOLDER).join(item ?? "") : text;
}

async function runAutocannon(spec) {
  const { default: autocannon } = await import("autocannon");
  const url = new URL(spec.url);
  const items = [...(spec.items ?? [])];
  const queue = spec.mode === "chain" ? [...items] : [];
  let pos = 0;
  let ok = 0;
  let bad = 0;
  let first = 0;
  let last = 0;
  let exhausted = false;
  const collected = [];
  const field = (body, name) => new RegExp(`"${name}"\\s*:\\s*"([^"]+)"`).exec(body ?? "")?.[1];
  let instance;
  const nextItem = () => {
    if (spec.mode === "cycle") return items[pos++ % items.length];
    if (spec.mode === "consume") {
      const item = items[pos++];
      if (item === undefined) {
        exhausted = true;
        instance?.stop();
        return items[items.length - 1];
      }
      return item;
    }
    if (spec.mode === "chain") {
      const item = queue.shift();
      if (item === undefined) {
        exhausted = true;
        instance?.stop();
        return "exhausted";
      }
      return item;
    }
    return null;
  };
  const request = {
    method: spec.method ?? "GET",
    setupRequest(req, context) {
      if (first === 0) first = performance.now();
      const item = nextItem();
      // Sent only because stop() is not instant: its answer is not counted.
      context.afterEnd = exhausted;
      const headers = {};
      for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name] = fill(value, item);
      return { ...req, path: fill(url.pathname + url.search, item), headers, body: fill(spec.body, item) };
    },
    onResponse(status, body, context, headers) {
      if (context.afterEnd) return;
      last = performance.now();
      let good = status === (spec.expect?.status ?? 200);
      if (good && spec.expect?.header) {
        const wanted = spec.expect.header.toLowerCase();
        good = Object.keys(headers ?? {}).some((k) => k.toLowerCase() === wanted);
      }
      if (good) ok += 1;
      else bad += 1;
      if (spec.chain && status === 200) {
        const value = field(body, spec.chain);
        if (value) queue.push(value);
      }
      if (spec.collect && status === (spec.expect?.status ?? 200)) {
        const value = field(body, spec.collect);
        if (value) collected.push(value);
      }
    },
  };
  const result = await new Promise((resolvePromise, reject) => {
    instance = autocannon(
      {
        url: `${url.protocol}//${url.host}`,
        connections: spec.connections,
        duration: spec.duration,
        timeout: 30,
        requests: [request],
      },
      (error, value) => (error ? reject(error) : resolvePromise(value)),
    );
  });
  const seconds = exhausted ? Math.max(0.001, (last - first) / 1000) : result.duration;
  const completed = ok + bad;
  return {
    tool: "autocannon",
    requests: completed,
    ok,
    bad,
    seconds,
    rps: completed / seconds,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    exhausted,
    socketErrors: result.errors + result.timeouts,
    collected,
  };
}

/**
 * @param {{ url: string, method?: string, headers?: Record<string,string>, body?: string, items?: string[],
 *   mode?: "static"|"cycle"|"consume"|"chain", chain?: string, collect?: string,
 *   expect?: { status?: number, header?: string }, connections: number, duration: number, threads?: number,
 *   tool: "wrk"|"autocannon" }} spec
 */
export async function runLoad(spec) {
  const full = { threads: 1, mode: "static", ...spec };
  return full.tool === "wrk" ? runWrk(full) : runAutocannon(full);
}
