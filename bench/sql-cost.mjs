#!/usr/bin/env node
// What a token shard's SQLite work costs (bench/sql-cost/src/index.ts): one Durable Object with the shard's own
// schema and statements, driven one RPC call at a time, each kind of work in turn, `--rounds` times over. Prints
// the runtime's CPU per call (workerd user + system time from /proc), and the same less the bare call.
//
//   node bench/sql-cost.mjs [--calls 3000] [--rounds 2]
//
// A write's cost is mostly its commit, and a commit costs the pages the call dirtied: compare `write` (the
// bench baseline's one small row) with `rotation`, and `rotation` with `rotation-trim` (the trim every rotation
// made before it moved to the clean-up alarm). Reads are nearly free.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuMs } from "./lib/proc.mjs";
import { freezeWorker, ROOT, startWorker } from "./lib/server.mjs";
import { log, PORTS } from "./lib/stack.mjs";

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
const CALLS = option("calls", 3000);
const ROUNDS = option("rounds", 2);
const WORK = ["call", "read", "write", "rotation", "rotation-trim"];

const workDir = mkdtempSync(join(tmpdir(), "ekm-sql-cost-"));
let server = null;
try {
  const config = await freezeWorker(join(ROOT, "bench/sql-cost/wrangler.toml"), workDir);
  server = await startWorker({
    name: "sql-cost",
    config,
    port: PORTS.sqlCost,
    inspectorPort: PORTS.sqlCostInspector,
    probePath: "/health",
    probeExpect: "ok",
    workDir,
  });
  log(`${CALLS} calls per run, ${ROUNDS} rounds; runtime workerd ${server.runtime}`);
  const perCall = Object.fromEntries(WORK.map((work) => [work, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const work of WORK) {
      const before = cpuMs(server.runtime);
      const response = await fetch(`${server.origin}/run?work=${work}&calls=${CALLS}`);
      if (!response.ok) throw new Error(`${work}: ${response.status} ${await response.text()}`);
      const { ms } = await response.json();
      const cpu = ((cpuMs(server.runtime) - before) * 1000) / CALLS;
      perCall[work].push(cpu);
      log(
        `${work.padEnd(14)} ${cpu.toFixed(0).padStart(5)} µs CPU per call  (${((ms * 1000) / CALLS).toFixed(0)} µs wall)`,
      );
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const bare = median(perCall.call);
  console.log("\nwork            µs CPU per call (median)   less the bare call");
  for (const work of WORK) {
    const cost = median(perCall[work]);
    console.log(
      `${work.padEnd(15)} ${cost.toFixed(0).padStart(8)}   ${(cost - bare).toFixed(0).padStart(20)}`,
    );
  }
} finally {
  await server?.stop();
  rmSync(workDir, { recursive: true, force: true });
}
