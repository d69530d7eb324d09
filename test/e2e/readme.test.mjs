// Runs the README's journey blocks (those after `<!-- journey -->`) verbatim in bash against a real
// `wrangler dev`, with only the host, port, admin token and echo backend address substituted.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { ROOT, startWranglerDev } from "./wrangler-dev.mjs";

const run = promisify(execFile);

/** Parses the JSON object that starts at `start` in `text` (curl output has no newlines between bodies). */
function jsonObjectAt(text, start) {
  assert.ok(start >= 0, text);
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return JSON.parse(text.slice(start, i + 1));
  }
  throw new Error(`no complete JSON object at ${start}`);
}

function journeyScript() {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/<!-- journey -->\s*```sh\n([\s\S]*?)```/g)].map((match) => match[1]);
  assert.ok(blocks.length >= 2, "README has journey blocks");
  return blocks.join("\n");
}

describe("README journey", () => {
  let server;
  let backend;
  before(async () => {
    backend = createServer((request, response) => {
      response.setHeader("Content-Type", "application/json");
      response.end(JSON.stringify({ url: request.url, headers: request.headers }));
    });
    await new Promise((resolve) => backend.listen(0, "127.0.0.1", resolve));
    server = await startWranglerDev();
  });
  after(async () => {
    await server?.stop();
    await new Promise((resolve) => backend?.close(resolve));
  });

  it("runs every curl line of the journey and ends with the revoked token refused", async () => {
    const script = journeyScript()
      .replaceAll("http://localhost:8787", server.origin)
      .replaceAll("dev-admin-token", server.adminToken)
      .replaceAll("http://127.0.0.1:9000", `http://127.0.0.1:${backend.address().port}`);
    const { stdout } = await run("bash", ["-c", `set -euo pipefail\n${script}`], { timeout: 60_000 });
    // 1-2: user, application, both kinds of token
    assert.match(stdout, /"username":"alice@carbon\.super"/);
    assert.match(stdout, /"token_type":"Bearer","expires_in":3600,"scope":"default"\}/);
    assert.match(stdout, /"scope":"PRODUCTION","refresh_token":/);
    // 3: the gateway forwarded the call without the Authorization header
    const echoed = jsonObjectAt(stdout, stdout.indexOf('{"url":"/search.atom?q=cat"'));
    assert.equal(echoed.headers.authorization, undefined);
    assert.equal(echoed.headers["x-ekm-end-user"], "alice@carbon.super");
    // 5: WSO2's revocation headers
    assert.match(stdout, /^revokedaccesstoken: /im);
    assert.match(stdout, /^revokedrefreshtoken: /im);
    assert.match(stdout, /^authorizeduser: alice@carbon\.super/im);
    // 6: refused at once
    assert.match(stdout, /^401$/m);
    assert.match(stdout, /\{"active":false\}\s*$/);
  });
});
