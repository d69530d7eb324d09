import { DurableObject } from "cloudflare:workers";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { sealPrivateKey, unsealPrivateKey, wrappingSecret } from "../crypto/key-wrap";
import { migrate } from "./migrations";
import { type PublicJwk, SIGNING_ALG, type SigningKeyView, type SigningLease } from "./signing/protocol";
import { type KeyRow, KeyTable, SIGNING_MIGRATIONS } from "./signing/schema";

/** How long an isolate may sign with a key it leased before it asks again (so a rotation spreads within it). */
export const LEASE_MS = 60_000;
/** Added to every publication bound, for clocks of different machines that disagree a little. */
const CLOCK_SLACK_MS = 5_000;
/** Longest lifetime a reservation may ask for: a never-expiring token's `exp` (see README) plus a day. */
const MAX_RESERVATION_MS = (2_147_483_647 + 86_400) * 1000;

/**
 * The service's signing keys (one instance, SIGNING_KEYS_NAME), generated here on first use and kept in this
 * object's SQLite storage with their private halves sealed. Three states:
 * - `active`: the key isolates sign with;
 * - `next`: published but not yet used, so that verifiers that cache the JWKS already know it when a rotation
 *   makes it active;
 * - `retired`: no longer leased; published until `publish_until`, the latest `exp` it may have signed, then
 *   deleted (RFC 7517 key rollover without breaking a signature that is still valid).
 */
export class SigningKeys extends DurableObject<Env> {
  private readonly keys: KeyTable;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, SIGNING_MIGRATIONS);
    this.keys = new KeyTable(ctx.storage.sql);
  }

  /**
   * Leases the active key to an isolate: it may sign until `now + LEASE_MS` JWTs expiring up to
   * `now + LEASE_MS + headroomMs`, and the key stays published at least that long.
   */
  async lease(headroomMs: number): Promise<SigningLease> {
    const active = await this.usableActiveKey();
    const now = Date.now();
    const until = now + LEASE_MS;
    const bound = until + Math.max(0, headroomMs);
    this.keys.extendPublication(active.kid, bound + CLOCK_SLACK_MS);
    return { kid: active.kid, sealed: active.private_sealed, until, bound };
  }

  /**
   * Raises the publication of a leased key to cover a JWT expiring at `expMs` (a long-lived access token).
   * Returns the key's new bound, or 0 if the key is gone (then the isolate leases again).
   */
  async reserve(kid: string, expMs: number): Promise<number> {
    if (!Number.isFinite(expMs) || expMs > Date.now() + MAX_RESERVATION_MS) return 0;
    const row = this.keys.get(kid);
    if (!row) return 0;
    return this.keys.extendPublication(kid, expMs + CLOCK_SLACK_MS) - CLOCK_SLACK_MS;
  }

  /** The JWKS: every key still published, public members only. Generates the keys on first use. */
  async publicKeys(): Promise<PublicJwk[]> {
    await this.usableActiveKey();
    this.keys.dropExpired(Date.now());
    return this.keys.all().map((row) => JSON.parse(row.public_jwk) as PublicJwk);
  }

  /**
   * Rotation: the next key becomes active (it has been published since the previous rotation), the active key
   * is retired, and a new next key is generated. The retired key stays published until its bound.
   */
  async rotate(): Promise<SigningKeyView[]> {
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.ensureKeys();
      const now = Date.now();
      const active = this.keys.inState("active");
      const next = this.keys.inState("next");
      if (active) this.keys.retire(active.kid, now);
      if (next) this.keys.activate(next.kid, now);
      await this.ensureKeys();
      this.keys.dropExpired(now);
    });
    await this.scheduleDrop();
    return this.list();
  }

  async list(): Promise<SigningKeyView[]> {
    this.keys.dropExpired(Date.now());
    return this.keys.all().map(view);
  }

  override async alarm(): Promise<void> {
    this.keys.dropExpired(Date.now());
    await this.scheduleDrop();
  }

  private async scheduleDrop(): Promise<void> {
    const at = this.keys.nextDrop();
    if (at !== null) await this.ctx.storage.setAlarm(Math.max(at, Date.now() + 1000));
  }

  /** The active key, generating keys on first use and replacing any that no longer unseal. */
  private async usableActiveKey(): Promise<KeyRow> {
    const secret = requireSecret(this.env);
    const active = this.keys.inState("active");
    const next = this.keys.inState("next");
    if (active && next && (await unsealPrivateKey(secret, active.kid, active.private_sealed))) return active;
    await this.ctx.blockConcurrencyWhile(() => this.ensureKeys());
    await this.scheduleDrop();
    return this.keys.inState("active") as KeyRow;
  }

  /**
   * Makes sure there is an active and a next key that unseal with the current secret. A key sealed under a
   * previous secret cannot sign any more: an active one is retired (still published for what it signed), a
   * next one, which never signed, is deleted.
   */
  private async ensureKeys(): Promise<void> {
    const secret = requireSecret(this.env);
    const now = Date.now();
    let active = this.keys.inState("active");
    if (active && !(await unsealPrivateKey(secret, active.kid, active.private_sealed))) {
      this.keys.retire(active.kid, now);
      active = null;
    }
    let next = this.keys.inState("next");
    if (next && !(await unsealPrivateKey(secret, next.kid, next.private_sealed))) {
      this.keys.delete(next.kid);
      next = null;
    }
    if (!active && next) {
      this.keys.activate(next.kid, now);
      next = null;
    } else if (!active) {
      this.keys.insert(await generateKey(secret, "active", now));
    }
    if (!next) this.keys.insert(await generateKey(secret, "next", now));
  }
}

function requireSecret(env: Env): string {
  const secret = wrappingSecret(env);
  if (!secret) throw new Error("signing keys need SIGNING_KEY_SECRET or ADMIN_TOKEN to be set");
  return secret;
}

async function generateKey(secret: string, state: "active" | "next", now: number): Promise<KeyRow> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  const published: PublicJwk = {
    kty: "EC",
    crv: "P-256",
    x: publicJwk.x as string,
    y: publicJwk.y as string,
    kid,
    alg: SIGNING_ALG,
    use: "sig",
  };
  return {
    kid,
    alg: SIGNING_ALG,
    public_jwk: JSON.stringify(published),
    private_sealed: await sealPrivateKey(secret, kid, (await exportJWK(privateKey)) as JsonWebKey),
    state,
    created_at: now,
    activated_at: state === "active" ? now : null,
    retired_at: null,
    publish_until: null,
  };
}

function view(row: KeyRow): SigningKeyView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    kid: row.kid,
    alg: row.alg,
    state: row.state,
    createdAt: new Date(row.created_at).toISOString(),
    activatedAt: iso(row.activated_at),
    retiredAt: iso(row.retired_at),
    publishedUntil: iso(row.publish_until),
  };
}
