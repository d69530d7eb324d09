/**
 * The credentials a request presents for its client (RFC 6749 §2.3.1): HTTP Basic (`client_secret_basic`),
 * `client_id` + `client_secret` in the body (`client_secret_post`), or `client_id` alone (a public client,
 * accepted only where the grant or token allows it). Checked against the stored hash by the client's
 * Durable Object, never here.
 */
export interface ClientCredentials {
  clientId: string;
  /** `null` for a public client presenting only its `client_id`. */
  clientSecret: string | null;
  method: "client_secret_basic" | "client_secret_post" | "none";
  /** Where the request came from (`CF-Connecting-IP`): failed authentications are throttled per source. */
  source?: string;
}
