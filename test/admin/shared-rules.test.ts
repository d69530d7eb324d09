import { describe, expect, it } from "vitest";
import { admin, unique } from "../helpers";

// The admin API and the developer portal apply the same input rules (src/services/application-rules.ts).
describe("admin API: the application rules it shares with the developer portal", () => {
  it("refuses allowed domains with a scheme, a path or a space, and an over-long name, with the portal's words", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ allowedDomains: ["https://app.example"] }, /"https:\/\/app.example" is not a bare domain name/],
      [{ allowedDomains: "a.example, b c.example" }, /"b c.example" has a space in it/],
      [{ allowedDomains: ["app.example/path"] }, /is not a bare domain name/],
      [{ name: "x".repeat(10_000) }, /name is too long: at most 100 characters, and this one has 10000/],
      [{ name: "   " }, /name is required/],
    ];
    for (const [fields, message] of cases) {
      const response = await admin("POST", "/applications", {
        name: unique("rules"),
        owner: "admin",
        ...fields,
      });
      expect(response.status, JSON.stringify(fields).slice(0, 80)).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(message);
    }
    const ok = await admin("POST", "/applications", {
      name: unique("rules"),
      owner: "admin",
      allowedDomains: ["Wso2.com", "*.example.org", "localhost", "10.0.0.1"],
    });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { allowedDomains: string[] }).allowedDomains).toEqual([
      "wso2.com",
      "*.example.org",
      "localhost",
      "10.0.0.1",
    ]);
  });
});
