// The WSO2 documents' own curl command lines (README "Token API" and "Revoke API"), with only host and port
// changed, against a real `wrangler dev`. Each command line is copied as documented; <PLACEHOLDERS> are filled in
// from the setup.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { adminCall, startWranglerDev } from "./wrangler-dev.mjs";

const run = promisify(execFile);
let server;
let app;
let basic;

/** Runs a documented curl line through bash, exactly as a user would paste it. */
async function curl(commandLine) {
  const { stdout, stderr: raw } = await run("bash", ["-c", commandLine], { timeout: 20_000 }).catch(
    (error) => error,
  );
  // curl's progress meter redraws itself with bare carriage returns, on the same stderr as the -v lines: a
  // verbose line may follow one on the same "line". Read a bare \r as a line break.
  const stderr = raw.replace(/\r(?!\n)/g, "\n");
  const status = Number(/^< HTTP\/[\d.]+ (\d{3})/m.exec(stderr)?.[1] ?? 0);
  const headers = {};
  for (const match of stderr.matchAll(/^< ([A-Za-z0-9-]+): (.*?)\r?$/gm))
    headers[match[1].toLowerCase()] = match[2];
  return { status, headers, body: stdout, stderr };
}

async function passwordGrant() {
  const response = await fetch(`${server.origin}/token`, {
    method: "POST",
    headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" },
    body: "grant_type=password&username=admin&password=admin-pass&scope=PRODUCTION",
  });
  assert.equal(response.status, 200);
  return response.json();
}

describe("WSO2's documented curl lines against wrangler dev", () => {
  before(async () => {
    server = await startWranglerDev();
    await adminCall(server, "POST", "/users", { username: "admin", password: "admin-pass" });
    app = await adminCall(server, "POST", "/applications", { name: "DefaultApplication", owner: "admin" });
    basic = `Basic ${Buffer.from(`${app.keys.PRODUCTION.consumerKey}:${app.keys.PRODUCTION.consumerSecret}`).toString("base64")}`;
  });
  after(async () => {
    await server?.stop();
  });

  it("documented line: revokes an access token with the quoted Content-Type header", async () => {
    const pair = await passwordGrant();
    const result = await curl(
      `curl -k -v -d "token=${pair.access_token}" -H "Authorization: ${basic}" -H "Content-Type: application/x-www-form-urlencoded" http://localhost:${server.port}/revoke`,
    );
    assert.equal(result.status, 200);
    assert.equal(result.body, "");
    assert.equal(result.headers.revokedaccesstoken, pair.access_token);
    assert.equal(result.headers.revokedrefreshtoken, pair.refresh_token);
    assert.equal(result.headers.authorizeduser, "admin@carbon.super");
    assert.equal(result.headers["cache-control"], "no-store");
    assert.equal(result.headers.pragma, "no-cache");
  });

  it("documented line: the same with the unquoted -H Content-Type: (curl then sends no Content-Type)", async () => {
    const pair = await passwordGrant();
    const result = await curl(
      `curl -k -v -d "token=${pair.access_token}" -H "Authorization: ${basic}" -H Content-Type: application/x-www-form-urlencoded http://localhost:${server.port}/revoke`,
    );
    assert.equal(result.status, 200);
    assert.equal(result.headers.revokedaccesstoken, pair.access_token);
    assert.equal(result.headers.authorizeduser, "admin@carbon.super");
  });

  it("documented line: an invalid token gets the bare 200 with only the cache headers", async () => {
    const result = await curl(
      `curl -k -v -d "token=a0d210c7a3de7d548e03f1986e9a5c39" -H "Authorization: ${basic}" -H "Content-Type: application/x-www-form-urlencoded" http://localhost:${server.port}/revoke`,
    );
    assert.equal(result.status, 200);
    assert.equal(result.body, "");
    assert.equal(result.headers.revokedaccesstoken, undefined);
    assert.equal(result.headers.revokedrefreshtoken, undefined);
    assert.equal(result.headers.authorizeduser, undefined);
    assert.equal(result.headers["cache-control"], "no-store");
    assert.equal(result.headers.pragma, "no-cache");
  });

  it("documented line: curl -k -d token=... -H Authorization: Basic Base64Encoded(key:secret)", async () => {
    const pair = await passwordGrant();
    const result = await curl(
      `curl -k -v -d "token=${pair.access_token}" -H "Authorization: ${basic}" http://localhost:${server.port}/revoke`,
    );
    assert.equal(result.headers.revokedaccesstoken, pair.access_token);
  });

  it("documented line: refresh with scope=PRODUCTION and the Basic header's trailing comma", async () => {
    const pair = await passwordGrant();
    const result = await curl(
      `curl -k -v -d "grant_type=refresh_token&refresh_token=${pair.refresh_token}&scope=PRODUCTION" -H "Authorization: ${basic}," -H "Content-Type: application/x-www-form-urlencoded" http://localhost:${server.port}/token`,
    );
    assert.equal(result.status, 200, result.body);
    const body = JSON.parse(result.body);
    assert.equal(body.token_type, "Bearer");
    assert.equal(body.scope, "PRODUCTION");
    assert.ok(body.refresh_token && body.refresh_token !== pair.refresh_token);
  });

  it("documented line: refresh with Content-Type glued into the Authorization header", async () => {
    const pair = await passwordGrant();
    const result = await curl(
      `curl -k -d "grant_type=refresh_token&refresh_token=${pair.refresh_token}&scope=PRODUCTION" -H "Authorization: ${basic}, Content-Type: application/x-www-form-urlencoded" http://localhost:${server.port}/token -v`,
    );
    assert.equal(result.status, 200, result.body);
    assert.ok(JSON.parse(result.body).access_token);
  });
});
