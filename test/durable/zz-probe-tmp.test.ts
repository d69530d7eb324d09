import { it } from "vitest";
import { runInDurableObject } from "cloudflare:test";
import { hashPassword } from "../../src/crypto/password";
import { registryStub } from "../../src/durable/names";
import { basic, createApp, env, postForm } from "../helpers";
it("probe", async () => {
  const app = await createApp();
  const keys = app.keys.PRODUCTION;
  const password = await hashPassword("pw", 1);
  await runInDurableObject(registryStub(env), (_i, state) => {
    for (let i = 0; i < 400; i++) state.storage.sql.exec("INSERT INTO users (username, name, tenant, user_store_domain, password, created_at) VALUES (?, ?, ?, ?, ?, ?)", `p${i}@carbon.super`, `p${i}`, "carbon.super", "PRIMARY", JSON.stringify(password), Date.now());
  });
  for (const par of [1, 10, 100]) {
    let t = performance.now();
    for (let s = 0; s < 200; s += par) await Promise.all(Array.from({ length: par }, () => postForm("/token", { grant_type: "client_credentials" }, { Authorization: basic(keys) }).then((r) => r.arrayBuffer())));
    const cc = performance.now() - t;
    t = performance.now();
    for (let s = 0; s < 200; s += par) await Promise.all(Array.from({ length: par }, (_, j) => postForm("/token", { grant_type: "password", username: `p${(s + j + par * 7) % 400}`, password: "pw" }, { Authorization: basic(keys) }).then((r) => r.arrayBuffer())));
    const pw = performance.now() - t;
    console.log(`PROBE par=${par} cc ${(cc / 200).toFixed(2)} ms/req, password ${(pw / 200).toFixed(2)} ms/req`);
  }
}, 120000);
