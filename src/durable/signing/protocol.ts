/** The signature algorithm of every key: ECDSA P-256 with SHA-256 (RFC 7518 §3.4). See README "Signed identity". */
export const SIGNING_ALG = "ES256";

/**
 * How long a verifier may cache the JWKS: shorter than the rotation overlap on both sides. A key is published
 * for a whole rotation period before it signs anything (the `next` key), and a retired key stays published
 * for at least a lease plus this max-age after it last signed (src/signing/signer.ts; by default an hour),
 * so a verifier that honours it holds the key of every valid signature, as long as rotations are at least
 * this far apart.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/** A public signing key as published in the JWKS (RFC 7517 §4): no private member ever. */
export interface PublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: typeof SIGNING_ALG;
  use: "sig";
}

/**
 * The right of one isolate to sign with the active key for a while: until `until` (epoch ms), JWTs whose
 * `exp` is at most `bound` (epoch ms); a later `exp` must be reserved first (SigningKeys.reserve). The private
 * key travels sealed (src/signing/key-wrap.ts) and is unsealed only in the isolate that signs.
 */
export interface SigningLease {
  kid: string;
  sealed: string;
  until: number;
  bound: number;
}

/** What the admin API shows of a key. */
export interface SigningKeyView {
  kid: string;
  alg: string;
  state: "next" | "active" | "retired";
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  /** When the key leaves the JWKS at the earliest: the latest `exp` it may have signed. */
  publishedUntil: string | null;
}
