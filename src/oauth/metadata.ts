import type { Context } from "hono";
import type { Config } from "../core/config";
import { issuerOf } from "../core/issuer";
import { jsonResponse } from "../core/responses";
import { DEFAULT_SCOPE } from "../core/scope";
import { JWKS_PATH } from "../signing/jwks-endpoint";
import { supportedGrantTypes } from "./grants";

/** Paths of the endpoints, relative to the issuer. */
export const ENDPOINT_PATHS = {
  authorization: "/authorize",
  token: "/token",
  revocation: "/revoke",
  introspection: "/introspect",
} as const;

/** The implicit grant is served by the authorization endpoint, not /token, so the grant registry lacks it. */
const AUTHORIZATION_ENDPOINT_GRANTS = ["implicit"];

/** RFC 8414 §2 authorization server metadata, the fields this service publishes (RFC 9207 §3 for the last). */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri?: string;
  scopes_supported?: string[];
  response_types_supported: string[];
  response_modes_supported?: string[];
  grant_types_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  revocation_endpoint?: string;
  revocation_endpoint_auth_methods_supported?: string[];
  introspection_endpoint?: string;
  introspection_endpoint_auth_methods_supported?: string[];
  code_challenge_methods_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
}

/**
 * `GET /.well-known/oauth-authorization-server` (RFC 8414 §3). Lists only what works: the grant types are
 * read from the token endpoint's grant registry, so an extension grant shows up when it is registered.
 */
export function authorizationServerMetadata(issuer: string): AuthorizationServerMetadata {
  const grantTypes = [...supportedGrantTypes()];
  for (const grant of AUTHORIZATION_ENDPOINT_GRANTS) if (!grantTypes.includes(grant)) grantTypes.push(grant);
  const clientAuth = ["client_secret_basic", "client_secret_post"];
  return {
    issuer,
    authorization_endpoint: `${issuer}${ENDPOINT_PATHS.authorization}`,
    token_endpoint: `${issuer}${ENDPOINT_PATHS.token}`,
    revocation_endpoint: `${issuer}${ENDPOINT_PATHS.revocation}`,
    introspection_endpoint: `${issuer}${ENDPOINT_PATHS.introspection}`,
    jwks_uri: `${issuer}${JWKS_PATH}`,
    grant_types_supported: grantTypes,
    response_types_supported: ["code", "token"],
    response_modes_supported: ["query", "fragment"],
    // `none`: a public client redeems a PKCE-bound code, and revokes what it obtained so, with client_id alone.
    token_endpoint_auth_methods_supported: [...clientAuth, "none"],
    revocation_endpoint_auth_methods_supported: [...clientAuth, "none"],
    introspection_endpoint_auth_methods_supported: clientAuth,
    code_challenge_methods_supported: ["S256"],
    // Scopes are free-form; these are the ones with a meaning of their own (RFC 8414 allows a partial list).
    scopes_supported: [DEFAULT_SCOPE, "PRODUCTION", "SANDBOX"],
    authorization_response_iss_parameter_supported: true,
  };
}

export function metadataEndpoint(c: Context<{ Variables: { config: Config } }>): Response {
  return jsonResponse(authorizationServerMetadata(issuerOf(c.var.config, c.req.raw)), 200, {
    "Cache-Control": "public, max-age=300",
    "Access-Control-Allow-Origin": "*",
  });
}
