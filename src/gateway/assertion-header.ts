import type { Config } from "../core/config";
import { GatewayError } from "../errors/gateway-error";
import { signedAssertion } from "../signing/assertion";
import type { AuthorizedCall } from "./authorize";

/**
 * WSO2 "JWT generation": the header (JWT_HEADER, by default X-JWT-Assertion) with the signed statement of who
 * calls, or none when JWT_GENERATION is false. If it cannot be signed the call is not forwarded (a backend
 * that relies on it must never see a call without it): 503, like any other validation the gateway cannot do.
 */
export async function assertionHeader(
  env: Env,
  config: Config,
  call: AuthorizedCall,
  issuer: string,
): Promise<Record<string, string>> {
  if (!config.jwtGeneration) return {};
  const key = call.key;
  try {
    const jwt = await signedAssertion(env, config, {
      issuer,
      api: { context: call.api.context, version: call.api.version },
      application: {
        id: key.applicationId,
        name: key.applicationName,
        owner: key.owner,
        tier: key.applicationTier,
      },
      keyType: key.keyType,
      user: call.token.user,
      isApplicationToken: call.token.isApplicationToken,
      tier: call.tier,
      tokenExpiresAt: call.token.expiresAt,
    });
    return { [config.jwtHeader]: jwt };
  } catch (error) {
    console.error("X-JWT-Assertion could not be signed:", error instanceof Error ? error.message : error);
    throw new GatewayError(
      "temporarily_unavailable",
      "the call could not be signed for the backend; try again",
    );
  }
}
