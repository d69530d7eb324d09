import { authorizationCodeGrant } from "./authorization-code";
import { clientCredentialsGrant } from "./client-credentials";
import type { Grant } from "./grant";
import { jwtBearerGrant } from "./jwt-bearer";
import { passwordGrant } from "./password";
import { refreshTokenGrant } from "./refresh-token";
import { tokenExchangeGrant } from "./token-exchange";

/**
 * The token endpoint's grant registry. An extension grant (RFC 6749 §4.5) is one module implementing
 * `Grant`, added here; nothing else changes.
 */
const grants = new Map<string, Grant>();

export function registerGrant(grant: Grant): void {
  grants.set(grant.type, grant);
}

export function findGrant(type: string): Grant | undefined {
  return grants.get(type);
}

export function supportedGrantTypes(): string[] {
  return [...grants.keys()];
}

registerGrant(clientCredentialsGrant);
registerGrant(passwordGrant);
registerGrant(refreshTokenGrant);
registerGrant(authorizationCodeGrant);
registerGrant(jwtBearerGrant);
registerGrant(tokenExchangeGrant);
