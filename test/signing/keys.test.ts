import { env, runInDurableObject } from "cloudflare:test";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/core/config";
import { sealPrivateKey, unsealPrivateKey } from "../../src/crypto/key-wrap";
import { registryStub } from "../../src/durable/names";
import { JwtSigner } from "../../src/durable/signing/signer";
import { ADMIN_TOKEN, admin, adminJson, call } from "../helpers";
import { fetchJwks, keyRows, kvText, servedKeySet, signingKeys, storageText } from "./signing-helpers";

const PUBLIC_MEMBERS = ["alg", "crv", "kid", "kty", "use", "x", "y"];
const now = () => Math.floor(Date.now() / 1000);

/** A fresh signer, as another isolate would have: it leases the key that is active now. */
const freshSigner = () => new JwtSigner(env, 3_600_000);

async function signTest(signer = freshSigner(), lifetime = 600): Promise<string> {
  return signer.sign({ typ: "JWT", claims: { iss: "test", sub: "s", iat: now(), exp: now() + lifetime } });
}

async function rotate(): Promise<void> {
  const response = await admin("POST", "/signing-keys/rotate");
  expect(response.status).toBe(200);
}

describe("GET /.well-known/jwks.json (RFC 7517)", () => {
  it("publishes the active and the next key, public members only, cacheable", async () => {
    const { response, jwks } = await fetchJwks();
    expect(response.headers.get("content-type")).toMatch(/^application\/jwk-set\+json/);
    const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get("cache-control") ?? "")?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    // Shorter than the shortest overlap: a retired key stays a lease (60 s) plus at least this long.
    expect(maxAge).toBeLessThanOrEqual(300);
    expect(response.headers.get("cache-control")).toMatch(/^public/);
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(PUBLIC_MEMBERS);
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    }
    expect(new Set(jwks.keys.map((key) => key.kid)).size).toBe(jwks.keys.length);
  });

  it("is listed as jwks_uri in the RFC 8414 metadata", async () => {
    const metadata = (await (await call("/.well-known/oauth-authorization-server")).json()) as {
      jwks_uri: string;
    };
    expect(metadata.jwks_uri).toBe("http://localhost:8787/.well-known/jwks.json");
  });

  it("verifies what the service signs, with jose against the served JWKS", async () => {
    const jwt = await signTest();
    const { payload, protectedHeader } = await jwtVerify(jwt, await servedKeySet(), {
      algorithms: ["ES256"],
    });
    expect(payload.sub).toBe("s");
    const [active] = (await keyRows()).filter((row) => row.state === "active");
    expect(protectedHeader.kid).toBe(active?.kid);
  });

  it("keeps the private keys sealed: no private member in Durable Object storage or KV", async () => {
    await signTest();
    const rows = await keyRows();
    const secrets: string[] = [];
    for (const row of rows) {
      const jwk = await unsealPrivateKey(ADMIN_TOKEN, row.kid, row.private_sealed);
      expect(jwk?.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
      secrets.push(jwk?.d as string);
    }
    const stored = `${await storageText(signingKeys())}\n${await storageText(registryStub(env))}\n${await kvText()}`;
    expect(stored.length).toBeGreaterThan(0);
    for (const d of secrets) expect(stored).not.toContain(d);
    expect(stored).not.toMatch(/"d"\s*:/);
  });
});

describe("POST /admin/signing-keys/rotate", () => {
  it("needs the admin token", async () => {
    const response = await call("/admin/signing-keys/rotate", { method: "POST" });
    expect(response.status).toBe(401);
  });

  it("activates the key that was already published and keeps the old one while its signatures are valid", async () => {
    const before = await fetchJwks();
    const oldJwt = await signTest();
    const oldKid = decodeProtectedHeader(oldJwt).kid;
    const next = (await keyRows()).find((row) => row.state === "next");
    await rotate();

    const after = await fetchJwks();
    const kids = after.jwks.keys.map((key) => key.kid);
    expect(kids).toContain(oldKid);
    // The newly active key was in the JWKS before the rotation (verifiers that cached it already know it).
    expect(before.jwks.keys.map((key) => key.kid)).toContain(next?.kid);
    const newJwt = await signTest();
    expect(decodeProtectedHeader(newJwt).kid).toBe(next?.kid);
    const keys = await servedKeySet();
    await expect(jwtVerify(oldJwt, keys)).resolves.toBeDefined();
    await expect(jwtVerify(newJwt, keys)).resolves.toBeDefined();

    const listed = await adminJson<{ keys: Array<{ kid: string; state: string }> }>("GET", "/signing-keys");
    expect(listed.keys.find((key) => key.kid === oldKid)?.state).toBe("retired");
    expect(JSON.stringify(listed)).not.toMatch(/"d"|sealed/);
  });

  it("drops a retired key once every JWT it signed has expired, and not before", async () => {
    const jwt = await signTest();
    const kid = decodeProtectedHeader(jwt).kid as string;
    await rotate();
    const retired = (await keyRows()).find((row) => row.kid === kid);
    expect(retired?.state).toBe("retired");
    // Its publication covers the JWT's exp (and the rest of the lease).
    expect(retired?.publish_until).toBeGreaterThanOrEqual((now() + 600) * 1000);
    expect((await fetchJwks()).jwks.keys.map((key) => key.kid)).toContain(kid);

    // Time passes: everything it may have signed has expired.
    await runInDurableObject(signingKeys(), (_i, state) => {
      state.storage.sql.exec("UPDATE signing_keys SET publish_until = ? WHERE kid = ?", Date.now() - 1, kid);
    });
    expect((await fetchJwks()).jwks.keys.map((key) => key.kid)).not.toContain(kid);
    expect((await keyRows()).some((row) => row.kid === kid)).toBe(false);
  });

  it("keeps a key published for a long-lived JWT it signed (reservation past the lease)", async () => {
    const signer = freshSigner();
    const yearLater = 365 * 24 * 3600;
    const jwt = await signTest(signer, yearLater);
    const kid = decodeProtectedHeader(jwt).kid as string;
    await rotate();
    const retired = (await keyRows()).find((row) => row.kid === kid);
    expect(retired?.publish_until).toBeGreaterThanOrEqual((now() + yearLater - 5) * 1000);
  });

  it("replaces keys that no longer unseal (the wrapping secret changed), keeping their public halves", async () => {
    const jwt = await signTest();
    const kid = decodeProtectedHeader(jwt).kid as string;
    const other = await sealPrivateKey("another-secret", kid, { kty: "EC" });
    await runInDurableObject(signingKeys(), (_i, state) => {
      state.storage.sql.exec("UPDATE signing_keys SET private_sealed = ? WHERE kid = ?", other, kid);
    });
    const fresh = await signTest();
    expect(decodeProtectedHeader(fresh).kid).not.toBe(kid);
    const keys = await servedKeySet();
    await expect(jwtVerify(jwt, keys)).resolves.toBeDefined();
    await expect(jwtVerify(fresh, keys)).resolves.toBeDefined();
    expect((await keyRows()).find((row) => row.kid === kid)?.state).toBe("retired");
  });
});

it("reads its configuration once: JWT generation on by default, header X-JWT-Assertion", () => {
  const config = readConfig(env);
  expect(config.jwtGeneration).toBe(true);
  expect(config.jwtHeader).toBe("X-JWT-Assertion");
});
