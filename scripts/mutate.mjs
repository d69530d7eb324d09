#!/usr/bin/env node
// npm run mutate [-- [--list] [--check] [--timeout=<s>] [id-or-prefix ...]]
//
// Curated mutation testing (README "Mutation testing"). Each entry of scripts/mutations.mjs plants one small
// bug that breaks one security rule: an exact search string in one file of src/ and its replacement. For each
// entry, one at a time, this script copies the working tree to a temporary directory (once), plants the bug
// in the copy, runs only the test files the entry names (vitest in workerd, --bail=1) and restores the file.
// The checkout itself is never modified, so an interrupted run leaves nothing behind.
//
//   killed    a test failed with the bug planted (good)
//   survived  every test passed with the bug planted: a missing test, or an equivalent mutation to explain
//   stale     the search string is not in the file (the code moved): update the entry
//   invalid   the mutated code did not load, or no test ran: fix the entry
//
// --list prints the entries; --check only reports stale entries, running nothing (seconds, for after a rebase).
// The score is killed / (killed + survived). Exit status: 0 when no mutation survived and none is stale or
// invalid, else 1.
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { mutations } from "./mutations.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flags = new Set(args.filter((arg) => arg.startsWith("--")));
const timeoutArg = args.find((arg) => arg.startsWith("--timeout="));
const timeoutMs = (timeoutArg ? Number(timeoutArg.split("=")[1]) : 300) * 1000;
const filters = args.filter((arg) => !arg.startsWith("--"));

const CONFIGS = {
  default: "vitest.config.ts",
  variants: "vitest.variants.config.ts",
  faults: "vitest.faults.config.ts",
};

/** An entry's edits: one `search`/`replace`, or several in `edits` (a bug that spans two places). */
function editsOf(entry) {
  return entry.edits ?? [{ search: entry.search, replace: entry.replace }];
}

function validate(entry) {
  for (const field of ["id", "file", "rule"]) {
    if (typeof entry[field] !== "string" || entry[field] === "")
      throw new Error(`mutation ${entry.id}: ${field}`);
  }
  for (const edit of editsOf(entry)) {
    if (typeof edit.search !== "string" || edit.search === "" || typeof edit.replace !== "string") {
      throw new Error(`mutation ${entry.id}: search/replace`);
    }
    if (edit.search === edit.replace) throw new Error(`mutation ${entry.id}: replace equals search`);
  }
  if (!Array.isArray(entry.tests) || entry.tests.length === 0) throw new Error(`mutation ${entry.id}: tests`);
  if (entry.config && !CONFIGS[entry.config]) throw new Error(`mutation ${entry.id}: config ${entry.config}`);
}

const ids = new Set();
for (const entry of mutations) {
  validate(entry);
  if (ids.has(entry.id)) throw new Error(`duplicate mutation id ${entry.id}`);
  ids.add(entry.id);
}
const selected = mutations.filter(
  (entry) =>
    filters.length === 0 || filters.some((filter) => entry.id === filter || entry.id.startsWith(filter)),
);

if (flags.has("--list")) {
  for (const entry of selected)
    console.log(`${entry.id.padEnd(34)} ${entry.file}\n${"".padEnd(35)}${entry.rule}`);
  process.exit(0);
}

/** Applies an entry's edits to `text`: the mutated text, or why it cannot be applied (the entry is stale). */
function applyEdits(entry, text) {
  let mutated = text;
  for (const edit of editsOf(entry)) {
    const count = occurrences(mutated, edit.search);
    if (count !== 1) {
      return { problem: count === 0 ? "search string not found" : `search string found ${count} times` };
    }
    mutated = mutated.replace(edit.search, () => edit.replace);
  }
  return { mutated };
}

if (flags.has("--check")) {
  // Only whether every entry still applies to the checkout, without running anything (a few milliseconds).
  let stale = 0;
  for (const entry of selected) {
    const path = join(root, entry.file);
    const missingTest = entry.tests.find((test) => !existsSync(join(root, test)));
    const applied = !existsSync(path)
      ? { problem: "file does not exist" }
      : missingTest
        ? { problem: `test file ${missingTest} does not exist` }
        : applyEdits(entry, readFileSync(path, "utf8"));
    if (applied.problem) {
      stale += 1;
      console.log(`stale: ${entry.id} (${entry.file}): ${applied.problem}`);
    }
  }
  console.log(`${selected.length - stale} of ${selected.length} mutations apply; ${stale} stale`);
  process.exit(stale === 0 ? 0 : 1);
}

/** The working tree as git sees it (tracked and untracked, not ignored), copied once; node_modules linked. */
function copyTree() {
  const dir = mkdtempSync(join(tmpdir(), "ekm-mutate-"));
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  });
  if (listed.status !== 0) throw new Error(`git ls-files: ${listed.stderr}`);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    const from = join(root, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(from, join(dir, file));
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

function occurrences(text, search) {
  let count = 0;
  for (let at = text.indexOf(search); at !== -1; at = text.indexOf(search, at + 1)) count += 1;
  return count;
}

/** Runs vitest on `tests` in `dir`; resolves with its exit code, the JSON report and the raw output. */
function runTests(dir, config, tests) {
  const report = join(dir, ".mutate-report.json");
  rmSync(report, { force: true });
  return new Promise((done) => {
    const child = spawn(
      "npx",
      [
        "vitest",
        "run",
        "--config",
        config,
        "--bail=1",
        "--reporter=json",
        `--outputFile=${report}`,
        ...tests,
      ],
      {
        cwd: dir,
        env: {
          ...process.env,
          WRANGLER_SEND_METRICS: "false",
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          CI: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      let json = null;
      try {
        json = JSON.parse(readFileSync(report, "utf8"));
      } catch {}
      done({ code: timedOut ? "timeout" : code, json, output });
    });
  });
}

function shorten(text, max = 240) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The first failed test and the first line of its message, from vitest's JSON report. */
function firstFailure(json, output) {
  for (const file of json?.testResults ?? []) {
    for (const test of file.assertionResults ?? []) {
      if (test.status === "failed") {
        const message = shorten((test.failureMessages?.[0] ?? "").split("\n")[0]);
        return `${file.name.replace(/^.*?\/test\//, "test/")} > ${test.fullName}: ${message}`;
      }
    }
    if (file.status === "failed" && file.message)
      return `${file.name}: ${shorten(file.message.split("\n")[0])}`;
  }
  const line = output.split("\n").find((l) => /Error|FAIL/.test(l));
  return line ? shorten(line.trim()) : "(no failing test reported)";
}

function testsRan(json) {
  return (json?.numPassedTests ?? 0) + (json?.numFailedTests ?? 0) > 0;
}

/** A mutated module that does not load fails every file before any test runs: not a kill. */
function loadFailure(json) {
  if (!json) return true;
  if (testsRan(json)) return false;
  return true;
}

const dir = copyTree();
const results = [];
const started = Date.now();
process.on("SIGINT", () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(130);
});
console.log(`mutating a copy of the working tree in ${dir}: ${selected.length} mutations\n`);

try {
  for (const [index, entry] of selected.entries()) {
    const path = join(dir, entry.file);
    const label = `[${index + 1}/${selected.length}] ${entry.id}`;
    if (!existsSync(path)) {
      results.push({ entry, status: "stale", detail: `${entry.file} does not exist` });
      console.log(`${label}: STALE (${entry.file} does not exist)`);
      continue;
    }
    const original = readFileSync(path, "utf8");
    const { mutated, problem } = applyEdits(entry, original);
    if (problem) {
      results.push({ entry, status: "stale", detail: problem });
      console.log(`${label}: STALE (${problem} in ${entry.file})`);
      continue;
    }
    writeFileSync(path, mutated);
    const began = Date.now();
    let run;
    try {
      run = await runTests(dir, CONFIGS[entry.config ?? "default"], entry.tests);
    } finally {
      writeFileSync(path, original);
    }
    const seconds = ((Date.now() - began) / 1000).toFixed(0);
    let status;
    let detail = "";
    if (run.code === "timeout") {
      status = "killed";
      detail = `timed out after ${timeoutMs / 1000} s`;
    } else if (run.code === 0 && testsRan(run.json)) {
      status = "survived";
    } else if (loadFailure(run.json)) {
      status = "invalid";
      detail = firstFailure(run.json, run.output);
    } else {
      status = "killed";
      detail = firstFailure(run.json, run.output);
    }
    results.push({ entry, status, detail });
    console.log(`${label}: ${status.toUpperCase()} (${seconds} s)${detail ? `\n    ${detail}` : ""}`);
    if (status === "survived") console.log(`    rule: ${entry.rule}\n    tests: ${entry.tests.join(" ")}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const count = (status) => results.filter((result) => result.status === status).length;
const killed = count("killed");
const survived = count("survived");
const score = killed + survived === 0 ? 0 : (100 * killed) / (killed + survived);
console.log(
  `\n${killed} killed, ${survived} survived, ${count("stale")} stale, ${count("invalid")} invalid` +
    ` in ${((Date.now() - started) / 60000).toFixed(1)} min: mutation score ${score.toFixed(1)}%`,
);
for (const result of results.filter((r) => r.status !== "killed")) {
  console.log(`  ${result.status}: ${result.entry.id} (${result.entry.file}) ${result.detail}`);
}
process.exit(survived + count("stale") + count("invalid") === 0 ? 0 : 1);
