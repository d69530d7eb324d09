// CPU time of a process (all its threads), from /proc/<pid>/stat: utime + stime, in milliseconds.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
} catch {
  // Linux's usual USER_HZ
}

export function cpuMs(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}

/** Snapshot of several processes' CPU time; `delta(before)` gives what each used since. */
export function cpuSnapshot(pids) {
  const snapshot = {};
  for (const [name, pid] of Object.entries(pids)) snapshot[name] = cpuMs(pid);
  return snapshot;
}

export function cpuDelta(before, after) {
  const delta = {};
  for (const name of Object.keys(before)) {
    delta[name] = before[name] === null || after[name] === null ? null : after[name] - before[name];
  }
  return delta;
}
