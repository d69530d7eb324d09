// The one-way layer rule of README "Architecture", as a function over source texts, so the test can run it on
// src/ and on a planted reverse import alike.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";

/**
 * src/'s folders, lowest first. A folder may import its own files and any folder in a lower row; never one in a
 * higher row, nor another folder of its own row (the route folders are siblings that share only what lies below).
 * `index.ts` is src/index.ts, the Worker's entry.
 */
export const LAYERS = [
  ["crypto"],
  ["core"],
  ["errors"],
  ["cache"],
  ["durable"],
  ["services"],
  ["http"],
  ["signing"],
  ["oauth", "gateway", "admin", "store"],
  ["index.ts"],
];

const RANK = new Map(LAYERS.flatMap((row, rank) => row.map((folder) => [folder, rank])));

/** The layer of a path relative to src/: its first folder, or the file itself at the top (`index.ts`). */
export function layerOf(path) {
  const parts = path.split("/");
  return parts[0];
}

/** Every module specifier a TypeScript source names: imports (type-only too), re-exports, dynamic imports. */
export function specifiersOf(text) {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
}

/**
 * The rule's violations in `sources` (path relative to src/ → text), one line each naming the file, the import and
 * the two layers. Package imports (`hono`, `cloudflare:workers`) are not layers; a relative import that leaves src/
 * is a violation, as is a file in a folder no row names.
 */
export function layerViolations(sources) {
  const found = [];
  for (const [path, text] of Object.entries(sources)) {
    const from = layerOf(path);
    if (!RANK.has(from)) {
      found.push(`src/${path}: folder ${from} is in no layer (add it to LAYERS in test/deps/layers.mjs)`);
      continue;
    }
    for (const specifier of specifiersOf(text)) {
      if (!specifier.startsWith(".")) continue;
      const target = normalize(join(dirname(path), specifier));
      if (target.startsWith("..")) {
        found.push(`src/${path} imports "${specifier}": outside src/`);
        continue;
      }
      const to = layerOf(target);
      if (to === from) continue;
      if (!RANK.has(to)) {
        found.push(`src/${path} imports "${specifier}": ${to} is in no layer`);
      } else if (RANK.get(to) > RANK.get(from)) {
        found.push(`src/${path} imports "${specifier}": ${from} must not import ${to}, a higher layer`);
      } else if (RANK.get(to) === RANK.get(from)) {
        found.push(
          `src/${path} imports "${specifier}": ${from} must not import ${to}, a sibling in its layer`,
        );
      }
    }
  }
  return found;
}

/** Every .ts / .tsx file under `root`, keyed by its path relative to `root`. */
export function readSources(root) {
  const sources = {};
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.tsx?$/.test(entry.name)) continue;
    const file = join(entry.parentPath, entry.name);
    sources[relative(root, file).split("\\").join("/")] = readFileSync(file, "utf8");
  }
  return sources;
}
