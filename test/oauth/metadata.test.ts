import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { supportedGrantTypes } from "../../src/oauth/grants";
import { call, createApp, postForm } from "../helpers";
import { CALLBACK, getAuthorize } from "./authorize-flow";

const PATH = "/.well-known/oauth-authorization-server";

async function metadata(origin?: string): Promise<{ response: Response; body: Record<string, unknown> }> {
  const response = origin ? await SELF.fetch(`${origin}${PATH}`) : await call(PATH);
  return { response, body: (await response.json()) as Record<string, unknown> };
}

describe("GET /.well-known/oauth-authorization-server (RFC 8414)", () => {
  it("describes the server at the origin it is reached at", async () => {
    const { response, body } = await metadata();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(body.issuer).toBe("http://localhost:8787");
    expect(body).toMatchObject({
      authorization_endpoint: "http://localhost:8787/authorize",
      token_endpoint: "http://localhost:8787/token",
      revocation_endpoint: "http://localhost:8787/revoke",
      introspection_endpoint: "http://localhost:8787/introspect",
      response_types_supported: ["code", "token"],
      response_modes_supported: ["query", "fragment"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
    });
    expect(body.scopes_supported).toEqual(expect.arrayContaining(["default", "PRODUCTION", "SANDBOX"]));
  });

  it("follows the host: the issuer is whatever origin the client used", async () => {
    const { body } = await metadata("https://keys.example.org");
    expect(body.issuer).toBe("https://keys.example.org");
    expect(body.token_endpoint).toBe("https://keys.example.org/token");
  });

  it("lists the grant registry's grant types plus implicit, and nothing else", async () => {
    const { body } = await metadata();
    const listed = body.grant_types_supported as string[];
    expect(listed).toEqual(
      expect.arrayContaining([
        "authorization_code",
        "implicit",
        "client_credentials",
        "password",
        "refresh_token",
      ]),
    );
    expect(new Set(listed)).toEqual(new Set([...supportedGrantTypes(), "implicit"]));
  });

  it("lists nothing that does not work: every token-endpoint grant type is accepted by /token", async () => {
    const app = await createApp({ callbackUrl: CALLBACK });
    const { body } = await metadata();
    for (const grantType of (body.grant_types_supported as string[]).filter((type) => type !== "implicit")) {
      const response = await postForm("/token", {
        grant_type: grantType,
        client_id: app.keys.PRODUCTION.consumerKey,
        client_secret: app.keys.PRODUCTION.consumerSecret,
      });
      const answer = (await response.json()) as { error?: string };
      expect(answer.error, grantType).not.toBe("unsupported_grant_type");
    }
    // Both response types reach the login page.
    for (const responseType of body.response_types_supported as string[]) {
      const page = await getAuthorize({
        response_type: responseType,
        client_id: app.keys.PRODUCTION.consumerKey,
        redirect_uri: CALLBACK,
      });
      expect(page.status, responseType).toBe(200);
    }
    // And an endpoint that is listed answers (a GET of a POST endpoint is 405, not 404).
    for (const name of ["token_endpoint", "revocation_endpoint", "introspection_endpoint"]) {
      const response = await SELF.fetch(body[name] as string);
      expect(response.status, name).toBe(405);
    }
  });

  it("may be cached briefly and read cross-origin", async () => {
    const { response } = await metadata();
    expect(response.headers.get("cache-control")).toBe("public, max-age=300");
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });
});
