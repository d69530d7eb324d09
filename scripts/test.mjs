#!/usr/bin/env node
// `npm test`: every check, in two lanes that run side by side, so a 2-core machine keeps both cores busy (README
// "Tests and benchmarks"). Each lane runs its npm scripts one after another and stops at its first failure; the
// other lane still finishes, so one run reports every failing lane. Output lines are prefixed with the lane's name;
// the exit code is non-zero when any script failed.
//   checks: typecheck, lint, check:deploy, then the end-to-end tests (test:e2e)
//   unit:   the workerd suites (test:unit)
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const LANES = {
  checks: ["typecheck", "lint", "check:deploy", "test:e2e"],
  unit: ["test:unit"],
};
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const width = Math.max(...Object.keys(LANES).map((name) => name.length));

/** Writes each line of `stream` to `out`, prefixed with the lane's name. */
function relay(stream, out, lane) {
  const prefix = `[${lane.padEnd(width)}] `;
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) =>
    out.write(`${prefix}${line}\n`),
  );
}

/** Runs one npm script; resolves with its exit status and wall time in seconds. */
function runScript(lane, script) {
  const started = Date.now();
  const child = spawn(npm, ["run", "--silent", script], { stdio: ["ignore", "pipe", "pipe"] });
  relay(child.stdout, process.stdout, lane);
  relay(child.stderr, process.stderr, lane);
  return new Promise((resolve) => {
    child.on("close", (code, signal) =>
      resolve({ lane, script, status: code ?? (signal ? 1 : 0), seconds: (Date.now() - started) / 1000 }),
    );
  });
}

/** Runs a lane's scripts in order, up to the first failing one. */
async function runLane(lane, scripts) {
  const results = [];
  for (const script of scripts) {
    const result = await runScript(lane, script);
    results.push(result);
    if (result.status !== 0) break;
  }
  for (const script of scripts.slice(results.length))
    results.push({ lane, script, status: null, seconds: 0 });
  return results;
}

const started = Date.now();
const results = (
  await Promise.all(Object.entries(LANES).map(([lane, scripts]) => runLane(lane, scripts)))
).flat();
console.log("\nnpm test:");
for (const { lane, script, status, seconds } of results) {
  console.log(
    `  ${status === 0 ? "ok  " : "FAIL"} ${`${lane}/${script}`.padEnd(24)} ${seconds.toFixed(0)} s`,
  );
}
const failed = results.some((result) => result.status !== 0);
console.log(`  ${failed ? "FAILED" : "passed"} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failed ? 1 : 0);
