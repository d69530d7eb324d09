import type { KeyType } from "../../core/client-record";
import { DEFAULT_SCOPE, grantScope, parseScope } from "../../core/scope";
import { userTokenRoute } from "../../core/shard-routing";
import { parseTokenRoute } from "../../core/token-format";
import { shardStub, userStoreOf } from "../../durable/names";
import type { SubjectToken } from "../../durable/shard/protocol";
import { OAuthError } from "../../errors/oauth-error";
import { requireParam } from "../../http/form";
import { lookupClient } from "../../services/client-directory";
import { authenticateClient } from "../../services/presented-client";
import { settle } from "../../services/shard-result";
import type { Grant } from "./grant";

export const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
/** RFC 8693 §3: the only token type this service exchanges, and the only one it issues. */
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const KEY_TYPE_SCOPES = new Set(["PRODUCTION", "SANDBOX"]);

/** RFC 8693 §2.2.2: an invalid or unacceptable subject token is invalid_request. */
const invalidSubject = (description: string) => new OAuthError("invalid_request", description);

/**
 * RFC 8693 token exchange, impersonation only: a registered client presents one of this service's active
 * access tokens (`subject_token`, `subject_token_type` access_token) of a user of its own tenant and gets its
 * own access token for that user, with a scope no wider than the subject token's (none asked: the same scope).
 * Delegation (`actor_token`) and targets (`resource`, `audience`) are not supported. The new token has its own
 * life: it is not revoked with the subject token, and it comes without a refresh token.
 */
export const tokenExchangeGrant: Grant = {
  type: TOKEN_EXCHANGE,
  async issue({ env, config, params, client, issuer }) {
    const { credentials, routing } = client;
    const subjectToken = requireParam(params, "subject_token");
    if (requireParam(params, "subject_token_type") !== ACCESS_TOKEN_TYPE) {
      throw new OAuthError("invalid_request", `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    const requested = params.get("requested_token_type");
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) {
      throw new OAuthError("invalid_request", `requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    if (params.has("actor_token") || params.has("actor_token_type")) {
      throw new OAuthError("invalid_request", "delegation (actor_token) is not supported");
    }
    if (params.has("resource") || params.has("audience")) {
      throw new OAuthError("invalid_target", "this service issues tokens for its own gateway only");
    }

    const caller = await authenticateClient(env, config, client);
    const subject = await subjectOf(env, subjectToken);
    if (!subject || subject.tenant !== caller.tenant) {
      throw invalidSubject("subject_token is not an active access token of this tenant");
    }
    if (subject.user === null) throw invalidSubject("subject_token is an application token: it has no user");
    const scope = exchangedScope(params.get("scope"), subject, routing.keyType);
    if (!(await userStoreOf(env, subject.user).getUser(subject.user)).ok)
      throw invalidSubject("the user no longer exists");

    const route = userTokenRoute(credentials.clientId, subject.user, routing.shards, config.partitions);
    const body = await settle(
      env,
      config,
      await shardStub(env, route).issueToken({
        route,
        issuer,
        credentials,
        grantType: TOKEN_EXCHANGE,
        scope,
        user: subject.user,
        userEpoch: subject.userEpoch,
        withRefresh: false,
      }),
    );
    return { ...body, issued_token_type: ACCESS_TOKEN_TYPE };
  },
};

async function subjectOf(env: Env, token: string): Promise<SubjectToken | null> {
  const route = parseTokenRoute(token);
  const routing = route ? await lookupClient(env, route.consumerKey) : null;
  if (!route || !routing || route.shard >= routing.shards) return null;
  return shardStub(env, route).describeSubjectToken(token);
}

/**
 * The scope of the exchanged token: what was asked, each scope one the subject token has (its key type counts
 * as had, as on refresh), or else the subject token's own scopes; then held to the caller's key type.
 */
export function exchangedScope(raw: string | undefined, subject: SubjectToken, keyType: KeyType): string {
  const had = parseScope(subject.scope);
  const asked = parseScope(raw);
  for (const scope of asked) {
    if (!had.includes(scope) && scope !== subject.keyType) {
      throw new OAuthError("invalid_scope", `scope ${scope} is wider than the subject token's`);
    }
  }
  const inherited = had.filter((scope) => !KEY_TYPE_SCOPES.has(scope));
  const scope = asked.length > 0 ? asked.join(" ") : inherited.join(" ") || DEFAULT_SCOPE;
  return grantScope(scope, keyType);
}
