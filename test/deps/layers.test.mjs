// README "Architecture": src/'s folders depend one way, lowest first, and the route folders do not import each
// other. This reads every import in src/ and names each one that breaks the rule.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { LAYERS, layerViolations, readSources, specifiersOf } from "./layers.mjs";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

test("no folder of src/ imports a higher layer or a sibling route folder", () => {
  const sources = readSources(SRC);
  assert.ok(Object.keys(sources).length > 50, "the check read src/");
  assert.deepEqual(layerViolations(sources), []);
});

test("every folder of src/ has a place in the layers", () => {
  const folders = new Set(Object.keys(readSources(SRC)).map((path) => path.split("/")[0]));
  assert.deepEqual(
    [...folders].filter((folder) => !LAYERS.flat().includes(folder)),
    [],
  );
});

test("the check reports a planted reverse import, naming the file and the import", () => {
  const planted = {
    "errors/admin-error.ts": 'import type { RegistryFailure } from "../durable/registry/result";\n',
    "durable/registry.ts":
      'import { notFound } from "./registry/result";\nimport { jsonResponse } from "../core/responses";\n',
  };
  assert.deepEqual(layerViolations(planted), [
    'src/errors/admin-error.ts imports "../durable/registry/result": errors must not import durable, a higher layer',
  ]);
});

test("the check reports a route folder importing a sibling, and an import that leaves src/", () => {
  assert.deepEqual(
    layerViolations({
      "store/routes.tsx": 'export { authenticateUser } from "../oauth/user-authentication";\n',
      "oauth/grants/password.ts": 'const helpers = await import("../../../test/helpers");\n',
      "services/applications.ts": 'import { newApplication } from "../services/user-authentication";\n',
    }),
    [
      'src/store/routes.tsx imports "../oauth/user-authentication": store must not import oauth, a sibling in its layer',
      'src/oauth/grants/password.ts imports "../../../test/helpers": outside src/',
    ],
  );
});

test("the parser sees type-only imports, re-exports and dynamic imports, not comments or strings", () => {
  const text = [
    'import type { A } from "./a";',
    'export * from "./b";',
    'const d = await import("./d");',
    '// import { x } from "./commented";',
    "const s = \"import y from './string'\";",
  ].join("\n");
  assert.deepEqual(specifiersOf(text), ["./a", "./b", "./d"]);
});
