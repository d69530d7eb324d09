import type { ClientRecord } from "../../core/client-record";
import { type Config, NEVER_EXPIRES_IN } from "../../core/config";
import { refuse } from "../../core/oauth-failure";
import { grantScope } from "../../core/scope";
import { mintToken, type TokenRoute } from "../../core/token-format";
import { hashSecret, randomSecret, sealWith } from "../../crypto/secrets";
import type { JwtSigner } from "../signing/signer";
import { newAccessToken } from "./access-tokens";
import { CONSENT_FORM_USED, type ConsentForm, type TokenResponseBody } from "./protocol";
import type { TokenRow, TokenTable } from "./schema";
import type { SpentForms } from "./spent-forms";
import type { CredentialEpoch, UserEpochs } from "./user-epochs";

export const SEAL_SIBLING = "sibling";
export const SEAL_SUCCESSOR = "successor";

/** A shard's storage as issuing works with it: its token table and the one way to write to it. */
export interface ShardStore {
  config: Config;
  tokens: TokenTable;
  /** Consent forms already answered (single use). */
  forms: SpentForms;
  /** This shard's view of its users' credential epochs; every user mint is admitted there. */
  users: UserEpochs;
  /** Signs the access tokens of applications whose format is JWT (src/durable/shard/access-tokens.ts). */
  signer: JwtSigner;
  /** Runs `fn` as one synchronous SQLite transaction: nothing else runs on the object meanwhile. */
  transaction<T>(fn: () => T): T;
}

/** What issuing tokens for one client works with: the shard's store, the key's record, the shard's route. */
export interface MintingContext extends ShardStore {
  record: ClientRecord;
  route: TokenRoute;
}

/**
 * A grant redeemed by a public client (PKCE, no secret): its refresh tokens may be rotated with client_id
 * alone, as RFC 9700 §4.14.2 allows refresh tokens for public clients when they rotate.
 */
export function isPublicClientGrant(row: { public_client: number }): boolean {
  return row.public_client === 1;
}

/** Access-token validity in seconds: the application's override, else the user or application default. */
export function accessTokenValidity(config: Config, record: ClientRecord, isUserToken: boolean): number {
  if (record.accessTokenValidity !== null) return record.accessTokenValidity;
  return isUserToken ? config.userAccessTokenValidity : config.applicationAccessTokenValidity;
}

/** Epoch ms a token issued at `now` with `validity` seconds expires at; null when it never expires. */
export function expiryOf(now: number, validity: number): number | null {
  return validity < 0 ? null : now + validity * 1000;
}

/**
 * `expires_in` as the client is told it: what is left, less TIMESTAMP_SKEW (so a client on a clock that runs
 * ahead still renews in time), never negative. A token that never expires reports NEVER_EXPIRES_IN.
 */
export function expiresIn(config: Config, expiresAt: number | null, now: number): number {
  if (expiresAt === null) return NEVER_EXPIRES_IN;
  return Math.max(0, Math.floor((expiresAt - now) / 1000) - config.timestampSkew);
}

export interface MintOptions {
  grantType: string;
  user: string | null;
  scope: string;
  grantedScope: string;
  withRefresh: boolean;
  /** Continue an existing family (refresh rotation); a new grant id otherwise. */
  family?: string;
  /** The grant was redeemed by a public client (see isPublicClientGrant). */
  publicClient?: boolean;
  /** The metadata's issuer (the origin called): the `iss` of a JWT access token. */
  issuer: string;
  /** The user's credential epoch the grant was checked at (null for an application token). */
  userEpoch: number | null;
}

export interface MintedPair {
  access: string;
  refresh: string | null;
  rows: TokenRow[];
  body: TokenResponseBody;
}

/**
 * The secret half of a pair, everything about it that awaits: the two token strings, their SHA-256 (what is
 * stored) and each sealed under the other (the sibling, for revocation headers). Rows are built from it by
 * {@link pairRows}, synchronously, so that they can be built inside a transaction.
 */
export interface SealedPair {
  access: string;
  refresh: string | null;
  accessHash: string;
  refreshHash: string | null;
  /** The refresh token sealed under the access token (the access row's `sibling_sealed`). */
  refreshUnderAccess: string | null;
  /** The access token sealed under the refresh token (the refresh row's `sibling_sealed`). */
  accessUnderRefresh: string | null;
}

export async function sealPair(access: string, refresh: string | null): Promise<SealedPair> {
  // One after another: the concurrency tests hold a request at its first seal (test/interleave.ts).
  return {
    access,
    refresh,
    accessHash: await hashSecret(access),
    refreshHash: refresh ? await hashSecret(refresh) : null,
    refreshUnderAccess: refresh ? await sealWith(access, SEAL_SIBLING, refresh) : null,
    accessUnderRefresh: refresh ? await sealWith(refresh, SEAL_SIBLING, access) : null,
  };
}

/**
 * Mints an access token (and a refresh token) with their rows. Pure apart from randomness: the caller writes
 * the rows, so that the write can sit inside a synchronous transaction.
 */
export async function mintPair(
  context: Pick<MintingContext, "config" | "record" | "route" | "signer">,
  options: MintOptions,
  now: number,
): Promise<MintedPair> {
  const { config, record, route } = context;
  const jwt = { issuer: options.issuer, signer: context.signer };
  const access = await newAccessToken(jwt, record, route, {
    user: options.user,
    scope: options.scope,
    issuedAt: now,
    expiresAt: expiryOf(now, accessTokenValidity(config, record, options.user !== null)),
  });
  const refresh = options.withRefresh ? mintToken(route) : null;
  return pairRows(context, await sealPair(access, refresh), options, now);
}

/** The rows and response body of a sealed pair (synchronous: may run inside the transaction that writes them). */
export function pairRows(
  context: Pick<MintingContext, "config" | "record">,
  pair: SealedPair,
  options: MintOptions,
  now: number,
): MintedPair {
  const { config, record } = context;
  const { access, refresh, accessHash, refreshHash } = pair;
  const family = options.family ?? randomSecret(16);
  const accessExpires = expiryOf(now, accessTokenValidity(config, record, options.user !== null));
  const base = {
    state: "active" as const,
    family,
    grant_type: options.grantType,
    user: options.user,
    scope: options.scope,
    granted_scope: options.grantedScope,
    key_type: record.keyType,
    issued_at: now,
    spent_at: null,
    successor_hash: null,
    successor_sealed: null,
    revoked_at: null,
    code_binding: null,
    public_client: options.publicClient ? (1 as const) : (0 as const),
    user_epoch: options.userEpoch,
  };
  const rows: TokenRow[] = [
    {
      ...base,
      hash: accessHash,
      kind: "access",
      expires_at: accessExpires,
      sibling_hash: refreshHash,
      sibling_sealed: pair.refreshUnderAccess,
      purge_after: accessExpires,
    },
  ];
  const body: TokenResponseBody = {
    access_token: access,
    token_type: "Bearer",
    expires_in: expiresIn(config, accessExpires, now),
    scope: options.scope,
  };
  if (refresh && refreshHash) {
    const refreshExpires = expiryOf(now, config.refreshTokenValidity);
    rows.push({
      ...base,
      hash: refreshHash,
      kind: "refresh",
      expires_at: refreshExpires,
      sibling_hash: accessHash,
      sibling_sealed: pair.accessUnderRefresh,
      purge_after: refreshExpires === null ? null : refreshExpires,
    });
    body.refresh_token = refresh;
  }
  return { access, refresh, rows, body };
}

/** A consent form, hashed before the transaction that spends it ({@link spendConsentForm}). */
export interface HashedConsentForm {
  hash: string;
  expiresAt: number;
}

export async function hashConsentForm(form: ConsentForm | undefined): Promise<HashedConsentForm | null> {
  return form ? { hash: await hashSecret(form.nonce), expiresAt: form.expiresAt } : null;
}

/** Inside the issuing transaction: marks the form used, or refuses (and so rolls back) a second use. */
export function spendConsentForm(forms: SpentForms, form: HashedConsentForm | null): void {
  if (form && !forms.spend(form.hash, form.expiresAt)) throw refuse("invalid_request", CONSENT_FORM_USED);
}

/**
 * The credential a user mint presents (src/durable/user-epoch.ts); null for an application token. A user token
 * without an epoch is a programming error, never a client's: every grant that establishes a user has one.
 */
export function userCredential(
  user: string | null,
  epoch: number | null | undefined,
): CredentialEpoch | null {
  if (user === null) return null;
  if (epoch === undefined || epoch === null)
    throw new Error("a user token is minted without a credential epoch");
  return { user, epoch };
}

/**
 * Issues the tokens of a grant whose client and user (if any) are established: the scope granted for the
 * request (src/core/scope.ts), then the pair written in one transaction. Returns the response body and when
 * the rows may be purged.
 */
export async function issueTokens(
  context: MintingContext,
  request: {
    grantType: string;
    user: string | null;
    scope: string | null;
    withRefresh: boolean;
    issuer: string;
    consentForm?: ConsentForm;
    userEpoch?: number;
  },
  now: number,
): Promise<{ body: TokenResponseBody; purgeAfter: number | null }> {
  const scope = grantScope(request.scope, context.record.keyType);
  const form = await hashConsentForm(request.consentForm);
  const credential = await context.users.prepare(userCredential(request.user, request.userEpoch));
  const pair = await mintPair(
    context,
    {
      grantType: request.grantType,
      user: request.user,
      scope,
      grantedScope: scope,
      withRefresh: request.withRefresh,
      issuer: request.issuer,
      userEpoch: credential?.epoch ?? null,
    },
    now,
  );
  context.transaction(() => {
    context.users.admit(credential);
    spendConsentForm(context.forms, form);
    context.tokens.insert(...pair.rows);
  });
  return { body: pair.body, purgeAfter: pair.rows[0]?.purge_after ?? null };
}
