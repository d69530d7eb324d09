import { type JWTPayload, SignJWT } from "jose";
import type { Config } from "../../core/config";
import { unsealPrivateKey, wrappingSecret } from "../../crypto/key-wrap";
import { signingKeysStub } from "../names";
import { JWKS_MAX_AGE_SECONDS, SIGNING_ALG, type SigningLease } from "./protocol";

/** The key an isolate signs with, unsealed into a non-extractable CryptoKey in memory. */
interface HeldLease {
  kid: string;
  key: CryptoKey;
  until: number;
  bound: number;
}

/** A JWT to sign: its `typ` header (RFC 9068 `at+jwt`, or `JWT`) and claims; `exp` and `iat` in seconds. */
export interface JwtToSign {
  typ: string;
  claims: JWTPayload & { exp: number; iat: number };
}

/**
 * Signs JWTs in this isolate with the key the SigningKeys object leases to it (src/durable/signing-keys.ts),
 * asking for a new lease once a minute. A JWT that would outlive what the lease covers (a long-lived access
 * token) first reserves its lifetime, so the key stays published until that JWT has expired.
 */
export class JwtSigner {
  private held: HeldLease | null = null;

  constructor(
    private readonly env: Env,
    private readonly headroomMs: number,
  ) {}

  async sign(jwt: JwtToSign): Promise<string> {
    let lease = await this.current();
    const expMs = jwt.claims.exp * 1000;
    if (expMs > lease.bound) {
      let bound = await signingKeysStub(this.env).reserve(lease.kid, expMs);
      if (bound < expMs) {
        // The key was rotated out and dropped meanwhile: lease the active one and reserve on it.
        this.forget();
        lease = await this.current();
        bound = await signingKeysStub(this.env).reserve(lease.kid, expMs);
        if (bound < expMs) throw new Error("the signing key could not be reserved for this lifetime");
      }
      lease.bound = bound;
    }
    return new SignJWT(jwt.claims)
      .setProtectedHeader({ alg: SIGNING_ALG, typ: jwt.typ, kid: lease.kid })
      .sign(lease.key);
  }

  /** Drops the held lease (after a rotation in this isolate); the next signature leases anew. */
  forget(): void {
    this.held = null;
  }

  /**
   * The held lease while it lasts, else a new one. Concurrent callers that find none each ask (at most once a
   * minute per isolate): a pending promise is not shared across requests, which workerd keeps apart.
   */
  private async current(): Promise<HeldLease> {
    const held = this.held;
    if (held && Date.now() < held.until) return held;
    const lease = await this.fetchLease();
    this.held = lease;
    return lease;
  }

  private async fetchLease(): Promise<HeldLease> {
    const lease: SigningLease = await signingKeysStub(this.env).lease(this.headroomMs);
    const secret = wrappingSecret(this.env);
    const jwk = secret ? await unsealPrivateKey(secret, lease.kid, lease.sealed) : null;
    if (!jwk) throw new Error("the leased signing key does not unseal with this isolate's secret");
    const key = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
    ]);
    return { kid: lease.kid, key, until: lease.until, bound: lease.bound };
  }
}

const signers = new WeakMap<object, JwtSigner>();

/**
 * This isolate's signer for a set of bindings. The lease headroom covers an X-JWT-Assertion and an access
 * token of the default validities, so the common signatures never need a reservation; and it is never less
 * than the JWKS max-age, so a retired key outlives every cached copy of a JWKS that lacks its successor.
 */
export function signerFor(env: Env, config: Config): JwtSigner {
  let signer = signers.get(env);
  if (!signer) {
    const longest = Math.max(
      JWKS_MAX_AGE_SECONDS,
      config.jwtAssertionValidity,
      config.applicationAccessTokenValidity,
      config.userAccessTokenValidity,
    );
    signer = new JwtSigner(env, longest * 1000);
    signers.set(env, signer);
  }
  return signer;
}
