// GET /admin/openapi.json against wrangler dev is a valid OpenAPI 3.1 document (checked with
// @seriousme/openapi-schema-validator: Ajv compiles the official schemas to code, which workerd does not allow, so
// this check runs in Node). test/admin/openapi.test.ts checks that every admin route is in it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { startWranglerDev } from "./wrangler-dev.mjs";

test("GET /admin/openapi.json is a valid OpenAPI 3.1 document", async () => {
  const server = await startWranglerDev();
  try {
    const response = await fetch(`${server.origin}/admin/openapi.json`, {
      headers: { Authorization: `Bearer ${server.adminToken}` },
    });
    assert.equal(response.status, 200);
    const document = await response.json();
    const validator = new Validator();
    const result = await validator.validate(document);
    assert.deepEqual(result.errors, undefined, JSON.stringify(result.errors, null, 2));
    assert.equal(result.valid, true);
    assert.equal(validator.version, "3.1");
    assert.ok(Object.keys(document.paths).length >= 10);

    // A broken document is refused: the check is not vacuous.
    const broken = structuredClone(document);
    broken.paths["/users"].post.responses = "none";
    assert.equal((await new Validator().validate(broken)).valid, false);
  } finally {
    await server.stop();
  }
});
