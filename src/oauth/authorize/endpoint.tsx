/** @jsxImportSource hono/jsx */
import { type Context, Hono } from "hono";
import { generateCookie, getCookie } from "hono/cookie";
import { issuerOf } from "../../core/issuer";
import { requestSource } from "../../core/request-source";
import { randomSecret } from "../../crypto/secrets";
import { shardStub } from "../../durable/names";
import { CONSENT_FORM_USED, type ConsentForm } from "../../durable/shard/protocol";
import { OAuthError } from "../../errors/oauth-error";
import type { AppEnv } from "../../http/app-env";
import { readForm } from "../../http/form";
import { cspSource, renderPage } from "../../http/html-page";
import { settle } from "../../services/shard-result";
import { authenticateUser, loginFailureMessage } from "../../services/user-authentication";
import { findAuthorizationClient, userRoute } from "./client";
import {
  CSRF_COOKIE_MAX_AGE,
  csrfCookieSpec,
  csrfCookieValue,
  type FormCheck,
  signForm,
  verifyForm,
} from "./form-signing";
import { ConsentPage, ErrorPage, FORM_FIELD, LoginPage } from "./pages";
import { errorRedirectUrl, type RedirectTarget, redirectResponse, redirectUrl } from "./redirect";
import { type AuthorizationRequest, targetOf, validateAuthorizationRequest } from "./request";

/**
 * The authorization endpoint (RFC 6749 §3.1): `GET /authorize` validates the request and shows the login
 * page; `POST /authorize/login` authenticates the resource owner and shows the consent page;
 * `POST /authorize/consent` answers the client: an authorization code (§4.1.2) or, for the implicit grant,
 * an access token in the fragment (§4.2.2). No server-side session: the request travels through the two
 * forms signed and bound to a CSRF cookie (form-signing.ts).
 */
type AppContext = Context<AppEnv>;

/** Seconds a login form stays usable (typing a password) and a consent form (one click). */
const LOGIN_FORM_TTL = 600;
const CONSENT_FORM_TTL = 300;

interface ConsentPayload {
  request: AuthorizationRequest;
  /** Canonical user name, authenticated by the login form. */
  user: string;
  /** The user's credential epoch the login checked (src/durable/user-epoch.ts). */
  epoch: number;
  /** This form's single use (README "Browser flows"): spent where its code or token is issued. */
  form: ConsentForm;
}

interface LoginExtras {
  username?: string;
  error?: string;
  notice?: string;
}

function csrfCookieHeader(c: AppContext, value: string): string {
  const spec = csrfCookieSpec(c.req.url);
  return generateCookie(spec.name, value, {
    path: spec.path,
    httpOnly: true,
    sameSite: "Lax",
    secure: spec.secure,
    maxAge: CSRF_COOKIE_MAX_AGE,
  });
}

/** The browser's CSRF cookie, if it sent one. */
function csrfCookie(c: AppContext): string | undefined {
  return getCookie(c, csrfCookieSpec(c.req.url).name);
}

function errorPage(status: number, error: string, description: string): Promise<Response> {
  const title = status === 403 ? "This form could not be accepted" : "This sign-in request is not valid";
  return renderPage(
    (nonce) => <ErrorPage nonce={nonce} title={title} error={error} description={description} />,
    { status },
  );
}

async function loginPage(
  c: AppContext,
  request: AuthorizationRequest,
  cookie: { value: string; isNew: boolean },
  extras: LoginExtras = {},
): Promise<Response> {
  const form = await signForm(c.env, {
    stage: "login",
    payload: request,
    cookie: cookie.value,
    ttlSeconds: LOGIN_FORM_TTL,
  });
  return renderPage(
    (nonce) => (
      <LoginPage
        nonce={nonce}
        applicationName={request.applicationName}
        scope={request.scope}
        form={form}
        {...extras}
      />
    ),
    { headers: cookie.isNew ? { "Set-Cookie": csrfCookieHeader(c, cookie.value) } : {} },
  );
}

/** A form that does not verify: forged or foreign ones get an error page; an expired one starts over. */
function formFailure(
  c: AppContext,
  check: Exclude<FormCheck<unknown>, { ok: true }>,
  request: AuthorizationRequest | undefined,
  cookie: string,
): Promise<Response> {
  if (check.reason === "expired" && request) {
    return loginPage(
      c,
      request,
      { value: cookie, isNew: false },
      { notice: "The form expired. Please sign in again." },
    );
  }
  if (check.reason === "no_cookie") {
    return errorPage(
      403,
      "access_denied",
      "The browser did not send the sign-in cookie: cookies may be blocked, or the form was not sent from this site.",
    );
  }
  return errorPage(
    403,
    "access_denied",
    "The form could not be verified: it was altered or not sent from this site.",
  );
}

/** `GET /authorize` (RFC 6749 §4.1.1, §4.2.1). */
async function authorize(c: AppContext): Promise<Response> {
  const issuer = issuerOf(c.var.config, c.req.raw);
  const validation = await validateAuthorizationRequest(c.env, new URL(c.req.url).searchParams, issuer);
  if (validation.kind === "show") {
    return errorPage(validation.error.status, validation.error.error, validation.error.description);
  }
  if (validation.kind === "redirect") {
    return redirectResponse(
      errorRedirectUrl(validation.target, validation.error, validation.description),
      302,
    );
  }
  return loginPage(c, validation.request, csrfCookieValue(csrfCookie(c)));
}

/** `POST /authorize/login`: the resource owner's credentials (RFC 6749 §3.1, §10.12 CSRF). */
async function login(c: AppContext): Promise<Response> {
  const params = await readForm(c.req.raw);
  const cookie = csrfCookie(c) ?? "";
  const check = await verifyForm<AuthorizationRequest>(c.env, {
    stage: "login",
    field: params.get(FORM_FIELD),
    cookie,
  });
  if (!check.ok) return formFailure(c, check, check.payload, cookie);
  const request = check.payload;
  const session = { value: cookie, isNew: false };
  const username = params.get("username")?.trim() ?? "";
  const password = params.get("password") ?? "";
  if (username === "" || password === "") {
    return loginPage(c, request, session, { username, error: "Enter your user name and password." });
  }
  const result = await authenticateUser(c.env, username, password, requestSource(c.req.raw.headers));
  if (!result.ok) return loginPage(c, request, session, { username, error: loginFailureMessage() });

  const consentForm = { nonce: randomSecret(16), expiresAt: Date.now() + CONSENT_FORM_TTL * 1000 };
  const payload: ConsentPayload = { request, user: result.username, epoch: result.epoch, form: consentForm };
  const form = await signForm(c.env, { stage: "consent", payload, cookie, ttlSeconds: CONSENT_FORM_TTL });
  const redirectSource = cspSource(request.redirectUri);
  return renderPage(
    (nonce) => (
      <ConsentPage
        nonce={nonce}
        applicationName={request.applicationName}
        user={result.username}
        scope={request.scope}
        redirectUri={request.redirectUri}
        form={form}
      />
    ),
    { formTargets: redirectSource ? [redirectSource] : [] },
  );
}

/** `POST /authorize/consent`: the resource owner's decision, answered at the client's redirect URI. */
async function consent(c: AppContext): Promise<Response> {
  const params = await readForm(c.req.raw);
  const cookie = csrfCookie(c) ?? "";
  const check = await verifyForm<ConsentPayload>(c.env, {
    stage: "consent",
    field: params.get(FORM_FIELD),
    cookie,
  });
  if (!check.ok) return formFailure(c, check, check.payload?.request, cookie);
  const { request, user, epoch, form } = check.payload;
  const target = targetOf(request, issuerOf(c.var.config, c.req.raw));
  const decision = params.get("decision");
  if (decision === "deny") {
    return redirectResponse(
      errorRedirectUrl(target, "access_denied", "the user denied the authorization request"),
      303,
    );
  }
  if (decision !== "approve") return errorPage(400, "invalid_request", "decision must be approve or deny");

  // The registration may have changed while the pages were open: check it again before answering.
  const known = await findAuthorizationClient(c.env, request.clientId);
  if (!known || !known.client.callbackUrls.includes(request.redirectUri)) {
    return errorPage(400, "invalid_request", "the application or its callback URL is no longer registered");
  }
  if (request.responseType === "token" && !known.client.implicitEnabled) {
    return redirectResponse(
      errorRedirectUrl(target, "unauthorized_client", "the implicit grant is disabled for this application"),
      303,
    );
  }
  const route = userRoute(c.env, request.clientId, user, known.routing);
  try {
    const answer =
      request.responseType === "code"
        ? await issueCode(c, route, request, { user, epoch }, form)
        : await issueImplicitToken(c, route, request, { user, epoch }, form);
    return redirectResponse(redirectUrl(target, answer), 303);
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    if (error.description === CONSENT_FORM_USED) {
      // The first submission got the answer; this one gets no second code, and says why.
      return errorPage(
        400,
        "invalid_request",
        "This consent form was already submitted. Start the sign-in again.",
      );
    }
    return redirectResponse(issuanceErrorUrl(target, error), 303);
  }
}

async function issueCode(
  c: AppContext,
  route: ReturnType<typeof userRoute>,
  request: AuthorizationRequest,
  { user, epoch }: { user: string; epoch: number },
  consentForm: ConsentForm,
): Promise<Record<string, string>> {
  const { code } = await settle(
    c.env,
    c.var.config,
    await shardStub(c.env, route).issueAuthorizationCode({
      route,
      user,
      scope: request.scope,
      redirectUri: request.redirectUri,
      redirectUriSent: request.redirectUriSent,
      codeChallenge: request.codeChallenge,
      consentForm,
      userEpoch: epoch,
    }),
  );
  return { code };
}

/** RFC 6749 §4.2.2: the access token in the fragment; never a refresh token (§4.2.2). */
async function issueImplicitToken(
  c: AppContext,
  route: ReturnType<typeof userRoute>,
  request: AuthorizationRequest,
  { user, epoch }: { user: string; epoch: number },
  consentForm: ConsentForm,
): Promise<Record<string, string>> {
  const body = await settle(
    c.env,
    c.var.config,
    await shardStub(c.env, route).issueToken({
      route,
      issuer: issuerOf(c.var.config, c.req.raw),
      credentials: { clientId: request.clientId, clientSecret: null, method: "none" },
      grantType: "implicit",
      scope: request.scope,
      user,
      withRefresh: false,
      allowPublic: true,
      consentForm,
      userEpoch: epoch,
    }),
  );
  return {
    access_token: body.access_token,
    token_type: body.token_type,
    expires_in: String(body.expires_in),
    scope: body.scope,
  };
}

function issuanceErrorUrl(target: RedirectTarget, error: OAuthError): string {
  if (error.code === "invalid_scope") return errorRedirectUrl(target, "invalid_scope", error.description);
  // The user was deleted or changed password after signing in (README "Users"): the consent no longer stands.
  if (error.code === "invalid_grant") return errorRedirectUrl(target, "access_denied", error.description);
  return errorRedirectUrl(target, "temporarily_unavailable", error.description);
}

/** A reload or bookmark of a form target: explain instead of a bare 404. */
function formTargetOnly(): Promise<Response> {
  return renderPage(
    (nonce) => (
      <ErrorPage
        nonce={nonce}
        title="This page cannot be opened directly"
        error="invalid_request"
        description="This address only receives the sign-in forms."
      />
    ),
    { status: 405, headers: { Allow: "POST" } },
  );
}

export const authorizeRoutes = new Hono<AppEnv>()
  .get("/", authorize)
  .post("/login", login)
  .post("/consent", consent)
  .get("/login", formTargetOnly)
  .get("/consent", formTargetOnly);
