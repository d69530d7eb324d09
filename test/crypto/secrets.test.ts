import { describe, expect, it } from "vitest";
import { mintToken } from "../../src/core/token-format";
import { base64url, utf8 } from "../../src/crypto/encoding";
import { sealWith, unsealWith } from "../../src/crypto/secrets";

const route = { consumerKey: "AbCdEfGhIjKlMnOpQrStUvWxYz12", shard: 3 };

/** A value sealed as releases before token-keyed seals did: AES-GCM under SHA-256 of purpose and secret. */
async function legacySeal(secret: string, purpose: string, plaintext: string): Promise<string> {
  const material = await crypto.subtle.digest(
    "SHA-256",
    utf8.encode(`edge-key-manager/seal/${purpose}\0${secret}`),
  );
  const key = await crypto.subtle.importKey("raw", material, "AES-GCM", false, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const body = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, utf8.encode(plaintext));
  return `${base64url(iv)}.${base64url(new Uint8Array(body))}`;
}

describe("sealing a value under a token", () => {
  it("keys an opaque token's seal by its own random bits, the purpose bound as additional data", async () => {
    const token = mintToken(route);
    const sealed = await sealWith(token, "sibling", "the other token");
    expect(sealed).toMatch(/^t\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("the other token");
    expect(await unsealWith(token, "sibling", sealed)).toBe("the other token");
    expect(await unsealWith(token, "successor", sealed)).toBeNull();
    expect(await unsealWith(mintToken(route), "sibling", sealed)).toBeNull();
    // A token one character off, and a secret that is no opaque token, open nothing either.
    const last = token.endsWith("A") ? "B" : "A";
    expect(await unsealWith(`${token.slice(0, -1)}${last}`, "sibling", sealed)).toBeNull();
    expect(await unsealWith("not-a-token", "sibling", sealed)).toBeNull();
  });

  it("keys any other secret (a JWT access token) by SHA-256 of purpose and secret", async () => {
    const jwt = `eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.${"s".repeat(86)}`;
    const sealed = await sealWith(jwt, "sibling", "refresh");
    expect(sealed).toMatch(/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(await unsealWith(jwt, "sibling", sealed)).toBe("refresh");
    expect(await unsealWith(jwt, "successor", sealed)).toBeNull();
  });

  it("still opens values an opaque token sealed before token-keyed seals (stored rows)", async () => {
    const token = mintToken({ ...route, partition: "FOO" });
    const stored = await legacySeal(token, "successor", '{"access_token":"a","refresh_token":"r"}');
    expect(await unsealWith(token, "successor", stored)).toBe('{"access_token":"a","refresh_token":"r"}');
    expect(await unsealWith(token, "sibling", stored)).toBeNull();
  });

  it("refuses altered or malformed values", async () => {
    const token = mintToken(route);
    const sealed = await sealWith(token, "sibling", "x");
    const [tag, iv, body] = sealed.split(".");
    const flipped = `${tag}.${iv}.${body?.startsWith("A") ? "B" : "A"}${body?.slice(1)}`;
    expect(await unsealWith(token, "sibling", flipped)).toBeNull();
    expect(await unsealWith(token, "sibling", `${iv}.${body}`)).toBeNull();
    for (const bad of ["", "t.", "t.a.b.c", "a.b.c", "no-dots"]) {
      expect(await unsealWith(token, "sibling", bad)).toBeNull();
    }
  });
});
