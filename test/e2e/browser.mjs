// Headless Chromium for the browser tests, with nothing installed by hand. Debian's /usr/bin/chromium when it is
// there; otherwise the build that ships inside the npm package @sparticuz/chromium (pinned in package.json), unpacked
// once per machine into $TMPDIR/ekm-chromium-<version>/ (a folder of its own per version, renamed into place
// atomically, so parallel runs and other versions of the package never see a half-written or foreign binary).
// EKM_CHROMIUM=npm forces the npm build (to test the fresh-machine path where /usr/bin/chromium exists);
// EKM_CHROMIUM=system forces /usr/bin/chromium.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sparticuz from "@sparticuz/chromium";
import { chromium } from "playwright-core";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";
// No calls home during a test run, whichever build.
const QUIET_ARGS = [
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
// @sparticuz/chromium's recommended flags (made for AWS Lambda), minus those that weaken the security model the tests
// rely on (same-origin policy, mixed content) and --single-process (closing one browser context would end the
// whole browser).
const DROPPED = new Set(["--disable-web-security", "--allow-running-insecure-content", "--single-process"]);

/** Unpacks the npm build (once per machine and version) and returns the binary's path. */
async function npmChromium() {
  const entry = fileURLToPath(import.meta.resolve("@sparticuz/chromium")); // <package>/build/esm/index.js
  const { version } = JSON.parse(readFileSync(join(entry, "../../../package.json"), "utf8"));
  const home = join(tmpdir(), `ekm-chromium-${version}`);
  const binary = join(home, "chromium");
  if (existsSync(binary)) return binary;
  // The package unpacks into os.tmpdir(): point that at a private staging folder, then rename it into place.
  const staging = mkdtempSync(`${home}.staging-`);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = staging;
  try {
    await sparticuz.executablePath();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
  try {
    renameSync(staging, home);
  } catch (error) {
    // Another run got there first: use its copy.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(binary)) throw error;
  }
  return binary;
}

/** Which Chromium the tests use, and with which flags. */
export async function chromiumToUse() {
  const choice = process.env.EKM_CHROMIUM;
  if (choice !== "npm" && (choice === "system" || existsSync(SYSTEM_CHROMIUM))) {
    if (!existsSync(SYSTEM_CHROMIUM))
      throw new Error(`EKM_CHROMIUM=system but ${SYSTEM_CHROMIUM} is missing`);
    return {
      executablePath: SYSTEM_CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", ...QUIET_ARGS],
      source: "system",
    };
  }
  const args = [...sparticuz.args.filter((arg) => !DROPPED.has(arg)), ...QUIET_ARGS];
  return { executablePath: await npmChromium(), args, source: "npm" };
}

/** Launches headless Chromium through playwright-core; `source` says which build ("system" or "npm"). */
export async function launchChromium() {
  const { executablePath, args, source } = await chromiumToUse();
  return { browser: await chromium.launch({ executablePath, args, headless: true }), source };
}
