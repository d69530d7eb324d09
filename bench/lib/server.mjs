// Starts `wrangler dev` for the bench on a frozen bundle of the worker, and finds the workerd process that runs
// it (for CPU accounting) and the socket that serves it directly (to bypass wrangler's dev proxy).
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const QUIET_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
};

function run(args, cwd) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(WRANGLER, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...QUIET_ENV },
    });
    const output = [];
    child.stdout.on("data", (chunk) => output.push(chunk.toString()));
    child.stderr.on("data", (chunk) => output.push(chunk.toString()));
    child.on("exit", (code) =>
      code === 0
        ? resolvePromise(output.join(""))
        : reject(new Error(`wrangler ${args[0]} failed:\n${output.join("")}`)),
    );
  });
}

/**
 * Bundles the worker of `config` once (`wrangler deploy --dry-run`) and writes a copy of the config that points
 * at the bundle, so that edits to the source tree during a run cannot make `wrangler dev` reload mid-scenario.
 */
export async function freezeWorker(config, workDir) {
  const outdir = join(workDir, `bundle-${basename(dirname(config))}`);
  await run(["deploy", "--dry-run", "--outdir", outdir, "--config", config], dirname(config));
  const text = readFileSync(config, "utf8");
  const frozen = text.replace(/^main\s*=\s*".*"$/m, `main = ${JSON.stringify(join(outdir, "index.js"))}`);
  if (frozen === text) throw new Error(`${config} has no main = "..." line`);
  const frozenConfig = join(outdir, "wrangler.toml");
  writeFileSync(frozenConfig, frozen);
  return frozenConfig;
}

function children(pid) {
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

function descendants(pid) {
  const all = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = children(queue.shift());
    all.push(...next);
    queue.push(...next);
  }
  return all;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/** TCP ports a process listens on (IPv4 loopback), from /proc/net/tcp and the process's socket inodes. */
export function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(link);
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = [];
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== "0A") continue; // 0A = LISTEN
    if (!inodes.has(fields[9])) continue;
    ports.push(Number.parseInt(fields[1].split(":")[1], 16));
  }
  return ports;
}

/** True when `origin` answers the probe with 200 and exactly `expect` (a runtime's inspector also serves /json). */
async function answers(origin, probePath, expect) {
  try {
    const response = await fetch(`${origin}${probePath}`, { signal: AbortSignal.timeout(2000) });
    const text = await response.text();
    return response.status === 200 && (expect === undefined || text.trim() === expect);
  } catch {
    return false;
  }
}

async function waitUntilUp(origin, probePath, expect, child, deadline, output) {
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited early (${child.exitCode}):\n${output.join("")}`);
    if (await answers(origin, probePath, expect)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer on ${origin} in time:\n${output.join("")}`);
}

/**
 * @param {{ name: string, config: string, port: number, inspectorPort: number, probePath: string, probeExpect?: string,
 *   vars?: Record<string,string>, workDir: string, direct?: boolean, inspector?: boolean }} options
 */
export async function startWorker(options) {
  const { name, config, port, inspectorPort, probePath, probeExpect, vars = {}, workDir } = options;
  const { direct = true, inspector = false } = options;
  const state = mkdtempSync(join(workDir, `state-${name}-`));
  const args = ["dev", "--local", "--config", config, "--port", String(port), "--ip", "127.0.0.1"];
  args.push("--inspector-port", String(inspectorPort), "--persist-to", state, "--log-level", "warn");
  args.push("--show-interactive-dev-session=false");
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  // wrangler dev attaches its devtools inspector proxy to the runtime, which then reports every subrequest (each
  // fetch, each Durable Object call) over the inspector protocol: ~1 ms of CPU per subrequest in wrangler's own
  // processes and the runtime, which production does not have. wrangler turns that proxy off when it believes
  // it runs in a VS Code debug terminal; the bench says so unless `inspector` is asked for.
  const env = { ...process.env, ...QUIET_ENV };
  if (!inspector) env.VSCODE_INSPECTOR_OPTIONS = env.VSCODE_INSPECTOR_OPTIONS ?? "{}";
  const child = spawn(WRANGLER, args, { cwd: dirname(config), stdio: ["ignore", "pipe", "pipe"], env });
  const output = [];
  child.stdout.on("data", (chunk) => output.push(chunk.toString()));
  child.stderr.on("data", (chunk) => output.push(chunk.toString()));
  const publicOrigin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    rmSync(state, { recursive: true, force: true });
  };
  try {
    await waitUntilUp(publicOrigin, probePath, probeExpect, child, Date.now() + 90_000, output);
    // wrangler dev runs two workerd processes: its dev proxy (on the public port) and the runtime that runs the
    // worker, its Durable Objects and KV. The bench loads the latter's own socket unless told otherwise.
    const workerds = descendants(child.pid).filter((pid) =>
      /workerd\b/.test(cmdline(pid).split(" ")[0] ?? ""),
    );
    const proxy = workerds.find((pid) => cmdline(pid).includes(`entry=127.0.0.1:${port}`));
    const runtime = workerds.find((pid) => pid !== proxy);
    if (!runtime) throw new Error(`no runtime workerd found under wrangler (pid ${child.pid})`);
    const node =
      descendants(child.pid).find((pid) => cmdline(pid).includes("wrangler-dist/cli.js")) ?? child.pid;
    let origin = publicOrigin;
    if (direct) {
      for (const candidate of listeningPorts(runtime)) {
        if (await answers(`http://127.0.0.1:${candidate}`, probePath, probeExpect)) {
          origin = `http://127.0.0.1:${candidate}`;
          break;
        }
      }
    }
    return {
      name,
      origin,
      publicOrigin,
      direct: origin !== publicOrigin,
      pid: child.pid,
      runtime,
      proxy,
      node,
      output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
