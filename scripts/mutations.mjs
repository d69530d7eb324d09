// The curated mutations of `npm run mutate` (scripts/mutate.mjs; README "Mutation testing").
//
// One entry per security rule: a small, realistic bug that breaks the rule. Fields:
//   id       unique, kebab-case, prefixed by its area (gateway-, rotation-, codes-, ...)
//   file     the file of src/ to change
//   search   an exact string that occurs once in the file (else the entry is reported "stale")
//   replace  what it becomes
//   edits    instead of search/replace: [{ search, replace }, ...] for a bug that spans several places
//   rule     the rule the bug breaks (README section or RFC)
//   tests    the test files that must catch it (run with --bail=1)
//   config   "variants" to run them with vitest.variants.config.ts (default: vitest.config.ts)
export const mutations = [
  // ---- the seven planted bugs that no test caught (issue 17's table) ----------------------------------------
  {
    id: "gateway-domain-suffix",
    file: "src/gateway/domains.ts",
    search: "return pattern === host;",
    replace: "return host.endsWith(pattern);",
    rule: "Allowed domains match exactly (or a declared *. wildcard), never by suffix: evilwso2.com is not wso2.com",
    tests: ["test/gateway/authorization.test.ts"],
  },
  {
    id: "rotation-successor-plaintext",
    file: "src/durable/shard/rotation.ts",
    edits: [
      {
        search: "? await sealWith(presented.token, SEAL_SUCCESSOR, JSON.stringify(successor))",
        replace: "? JSON.stringify(successor)",
      },
      {
        search: "const plaintext = await unsealWith(presented, SEAL_SUCCESSOR, decision.sealed);",
        replace: "const plaintext = decision.sealed;",
      },
    ],
    rule: "Nothing secret at rest: a spent refresh token's successor pair is stored sealed, not in plaintext",
    tests: ["test/oauth/refresh.test.ts"],
  },
  {
    id: "shard-validate-accepts-refresh",
    file: "src/durable/shard/introspection.ts",
    search: 'if (!row || row.kind !== "access" || !isLive(row, now) || !record) return null;',
    replace: "if (!row || !isLive(row, now) || !record) return null;",
    rule: "RFC 6750: only an access token is a Bearer token at the gateway; a refresh token or a code is refused",
    tests: ["test/gateway/authorization.test.ts"],
  },
  {
    id: "rotation-reuse-purges-nothing",
    file: "src/durable/shard/rotation.ts",
    search: 'const purge = tokens.revoke("family", row.family, now);',
    replace: 'const purge: string[] = []; tokens.revoke("family", row.family, now);',
    rule: "RFC 9700 §4.14.2 reuse detection revokes the family and purges the gateway cache at once",
    tests: ["test/gateway/validation-cache.test.ts"],
  },
  {
    id: "registry-user-change-purges-nothing",
    file: "src/durable/registry.ts",
    search: "purge.push(...(await shardStub(this.env, { consumerKey, shard }).revokeUserTokens(username)));",
    replace: "await shardStub(this.env, { consumerKey, shard }).revokeUserTokens(username);",
    rule: "A password change or a deleted user ends the user's tokens at the gateway at once",
    tests: ["test/gateway/validation-cache.test.ts"],
  },
  {
    id: "minting-spent-never-expiring-forgotten",
    file: "src/durable/shard/minting.ts",
    search: "return row.expires_at ?? now + SPENT_RETENTION_MS;",
    replace: "return row.expires_at ?? now;",
    rule: "A spent refresh token is remembered (for reuse detection) until it expires, a month if it never does",
    tests: ["test/variants/strict-config.test.ts"],
    config: "variants",
  },
  {
    id: "introspect-code-active",
    file: "src/durable/shard/introspection.ts",
    search: 'if (!row || !record || !isLive(row, now) || row.kind === "code") return { active: false };',
    replace: "if (!row || !record || !isLive(row, now)) return { active: false };",
    rule: "RFC 7662: an authorization code is not a token; introspection reports it inactive",
    tests: ["test/oauth/authorization-code.test.ts"],
  },

  // ---- races: decisions serialized in the shard (really interleaved by test/interleave.ts) ------------------
  {
    id: "codes-no-recheck-in-transaction",
    file: "src/durable/shard/codes.ts",
    search: 'if (!row || row.state !== "active") return revokeReused(tokens, hash, now);',
    replace: "if (!row) return revokeReused(tokens, hash, now);",
    rule: "RFC 6749 §4.1.2: a code works once, also when two redemptions race past the pre-check",
    tests: ["test/oauth/authorization-code.test.ts"],
  },
  {
    id: "rotation-decision-unserialized",
    file: "src/durable/shard/rotation.ts",
    search: "const row = tokens.find(hash);",
    replace: "const row = current;",
    rule: "Rotation is decided in one serialized step: parallel refreshes of one token yield one successor pair",
    tests: ["test/oauth/refresh.test.ts"],
  },
  {
    id: "rotation-decision-unserialized-strict",
    file: "src/durable/shard/rotation.ts",
    search: "const row = tokens.find(hash);",
    replace: "const row = current;",
    rule: "REFRESH_TOKEN_REUSE_GRACE=0: exactly one of parallel refreshes of one token wins",
    tests: ["test/variants/strict-config.test.ts"],
    config: "variants",
  },
];
