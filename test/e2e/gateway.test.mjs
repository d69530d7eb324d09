// End to end: the API gateway under a real `wrangler dev`, called with WSO2's documented curl line.
// Two wrangler dev servers (defaults; gateway options changed) and an echo backend, all on ephemeral ports.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { startBackend } from "../gateway/backend-server.mjs";
import { adminCall, startWranglerDev } from "./wrangler-dev.mjs";

const run = promisify(execFile);

/** Runs curl (with -i so the answer's headers come with it) and parses what it printed. */
async function curl(args) {
  const { stdout } = await run("curl", ["-sS", "-i", ...args], { maxBuffer: 16 * 1024 * 1024 });
  // Skip interim responses (100 Continue) up to the final one.
  let rest = stdout;
  let head;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    head = rest.slice(0, end);
    rest = rest.slice(end + 4);
    if (!/^HTTP\/[\d.]+ 1\d\d/.test(head)) break;
  }
  const [statusLine, ...lines] = head.split("\r\n");
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: rest };
}

/** Creates an API at /twitter/1.0.0 on the backend, an application allowed from wso2.com, the subscription. */
async function publishTwitter(server, backend) {
  const api = await adminCall(server, "POST", "/apis", {
    name: "TwitterSearch",
    context: "twitter",
    version: "1.0.0",
    productionEndpoint: `${backend.url}/twitter-prod`,
    sandboxEndpoint: `${backend.url}/twitter-sandbox`,
  });
  await adminCall(server, "POST", "/users", { username: "subscriber", password: "subscriber-Passw0rd" });
  const app = await adminCall(server, "POST", "/applications", {
    name: "DefaultApplication",
    owner: "subscriber",
    allowedDomains: ["wso2.com"],
  });
  await adminCall(server, "POST", "/subscriptions", { applicationId: app.id, apiId: api.id });
  return { api, app };
}

function basicOf(keys) {
  return `Basic ${Buffer.from(`${keys.consumerKey}:${keys.consumerSecret}`).toString("base64")}`;
}

async function applicationToken(server, keys) {
  const answer = await curl([
    "-d",
    "grant_type=client_credentials",
    "-H",
    `Authorization: ${basicOf(keys)}`,
    "-H",
    "Content-Type: application/x-www-form-urlencoded",
    `${server.origin}/token`,
  ]);
  assert.equal(answer.status, 200, answer.body);
  return JSON.parse(answer.body).access_token;
}

describe("gateway end to end (wrangler dev, curl)", () => {
  let backend;
  let server;
  let app;

  before(async () => {
    backend = await startBackend();
    server = await startWranglerDev();
    ({ app } = await publishTwitter(server, backend));
  });

  after(async () => {
    await server?.stop();
    await backend?.close();
  });

  it("forwards WSO2's documented call, then refuses the token once /revoke returned", async () => {
    const token = await applicationToken(server, app.keys.PRODUCTION);
    const documentedCall = [
      "-v",
      "-H",
      `Authorization: Bearer ${token}`,
      "-H",
      "domain: wso2.com",
      `${server.origin}/twitter/1.0.0/search.atom?q=cat`,
    ];

    const first = await curl(documentedCall);
    assert.equal(first.status, 200, first.body);
    const echo = JSON.parse(first.body);
    assert.equal(echo.path, "/twitter-prod/search.atom");
    assert.equal(echo.query, "?q=cat");
    assert.equal(echo.headers.authorization, undefined, "the Authorization header is removed");
    assert.equal(echo.headers.domain, "wso2.com");
    assert.equal(echo.headers["x-ekm-application-id"], app.id);
    assert.equal(echo.headers["x-ekm-application-name"], "DefaultApplication");
    assert.equal(echo.headers["x-ekm-consumer-key"], app.keys.PRODUCTION.consumerKey);
    assert.equal(echo.headers["x-ekm-key-type"], "PRODUCTION");
    assert.equal(echo.headers["x-ekm-end-user"], "subscriber@carbon.super");

    // Warm now: served from the validation cache.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await curl(documentedCall);
    assert.equal(second.status, 200, second.body);

    const refused = await curl([...documentedCall.slice(0, 4), "-H", "domain: evil.com", documentedCall[5]]);
    assert.equal(refused.status, 403, refused.body);
    assert.match(refused.headers["www-authenticate"], /error="insufficient_scope"/);

    const revoked = await curl([
      "-d",
      `token=${token}`,
      "-H",
      `Authorization: ${basicOf(app.keys.PRODUCTION)}`,
      "-H",
      "Content-Type: application/x-www-form-urlencoded",
      `${server.origin}/revoke`,
    ]);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.headers.revokedaccesstoken, token);

    const after = await curl(documentedCall);
    assert.equal(after.status, 401, after.body);
    assert.equal(after.headers["www-authenticate"], 'Bearer error="invalid_token"');
    assert.equal(JSON.parse(after.body).error, "invalid_token");
  });

  it("streams a large upload curl sends (Expect: 100-continue)", async () => {
    const token = await applicationToken(server, app.keys.PRODUCTION);
    const dir = mkdtempSync(join(tmpdir(), "ekm-gateway-"));
    const file = join(dir, "upload.bin");
    const data = randomBytes(3 * 1024 * 1024);
    writeFileSync(file, data);
    try {
      const answer = await curl([
        "-H",
        `Authorization: Bearer ${token}`,
        "-H",
        "domain: wso2.com",
        "-H",
        "Content-Type: application/octet-stream",
        "--data-binary",
        `@${file}`,
        `${server.origin}/twitter/1.0.0/upload`,
      ]);
      assert.equal(answer.status, 200, answer.body);
      const echo = JSON.parse(answer.body);
      assert.equal(echo.bodyBytes, data.length);
      assert.equal(echo.bodySha256, createHash("sha256").update(data).digest("hex"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers 401 without a token, 404 off any API, and routes a SANDBOX token to the sandbox", async () => {
    const missing = await curl([
      "-H",
      "domain: wso2.com",
      `${server.origin}/twitter/1.0.0/search.atom?q=cat`,
    ]);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers["www-authenticate"], "Bearer");

    const nowhere = await curl([`${server.origin}/nothing/1.0.0/x`]);
    assert.equal(nowhere.status, 404);

    const token = await applicationToken(server, app.keys.SANDBOX);
    const sandbox = await curl([
      "-H",
      `Authorization: Bearer ${token}`,
      "-H",
      "domain: wso2.com",
      `${server.origin}/twitter/1.0.0/search.atom?q=dog`,
    ]);
    assert.equal(sandbox.status, 200, sandbox.body);
    assert.equal(JSON.parse(sandbox.body).path, "/twitter-sandbox/search.atom");
  });
});

describe("gateway end to end with changed options (wrangler dev --var)", () => {
  let backend;
  let server;

  before(async () => {
    backend = await startBackend();
    server = await startWranglerDev({
      vars: {
        REMOVE_OAUTH_HEADERS_FROM_OUT_MESSAGE: "false",
        CLIENT_DOMAIN_HEADER: "X-Client-Domain",
        GATEWAY_CACHE_TTL: "0",
      },
    });
  });

  after(async () => {
    await server?.stop();
    await backend?.close();
  });

  it("keeps the Authorization header and reads the configured domain header (cache off)", async () => {
    const { app } = await publishTwitter(server, backend);
    const token = await applicationToken(server, app.keys.PRODUCTION);
    const call = (domainHeader) =>
      curl([
        "-H",
        `Authorization: Bearer ${token}`,
        "-H",
        domainHeader,
        `${server.origin}/twitter/1.0.0/search.atom?q=cat`,
      ]);
    const ok = await call("X-Client-Domain: wso2.com");
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).headers.authorization, `Bearer ${token}`);
    assert.equal((await call("domain: wso2.com")).status, 403);

    await curl([
      "-d",
      `token=${token}`,
      "-H",
      `Authorization: ${basicOf(app.keys.PRODUCTION)}`,
      `${server.origin}/revoke`,
    ]);
    assert.equal((await call("X-Client-Domain: wso2.com")).status, 401);
  });
});
