/** @jsxImportSource hono/jsx */
import { type Context, Hono } from "hono";
import { KEY_TYPES, type KeyType } from "../core/client-record";
import { issuerOf } from "../core/issuer";
import { requestSource } from "../core/request-source";
import { registryStub } from "../durable/names";
import type { ApplicationView } from "../durable/registry/applications";
import { InputError } from "../errors/input-error";
import { OAuthError } from "../errors/oauth-error";
import type { AppEnv } from "../http/app-env";
import { forgetGatewayFacts } from "../http/forget-gateway-facts";
import { type FormParams, readForm } from "../http/form";
import { type PageOptions, renderPage } from "../http/html-page";
import {
  allowedDomainList,
  applicationName,
  callbackUrl,
  tokenValidity,
} from "../services/application-rules";
import { newApplication, ownedApplication, regenerateApplicationToken } from "../services/applications";
import { offeredTier, offeredTiers } from "../services/tiers";
import { authenticateUser, loginFailureMessage } from "../services/user-authentication";
import {
  CSRF_FIELD,
  sameOrigin,
  sessionToken,
  signInToken,
  validSessionToken,
  validSignInToken,
} from "./csrf";
import {
  ApisPage,
  ApplicationPage,
  ApplicationsPage,
  type Flash,
  type KeyForm,
  MessagePage,
  type NewApplicationForm,
  type ShownCredentials,
  SignInPage,
  STORE,
  type Viewer,
} from "./pages";
import {
  currentSession,
  endSession,
  endSessionOnServer,
  type PortalSession,
  pendingSession,
  presentedSession,
} from "./session";

/**
 * The developer portal, WSO2's "API Store" (README "Developer portal"). Every
 * change goes through the same registry, shard and service code as the admin API; a user only ever reaches
 * applications they own (another's id is answered as a missing one). Every POST is checked for a same-origin
 * request, a live session and the session's CSRF token, in that order, before anything is read or changed.
 */
type StoreContext = Context<AppEnv>;

const NOTICES: Record<string, string> = {
  "signed-out": "You have signed out.",
  created: "Application added. Generate its keys to start calling APIs.",
  saved: "Key settings saved.",
  deleted: "Application deleted: its keys no longer work.",
  subscribed: "Subscribed. The application's tokens can call the API now.",
  unsubscribed: "Unsubscribed. The application's tokens can no longer call that API.",
};

/**
 * A portal page. Its referrer policy is `same-origin`, so that the browser names this origin in `Origin` when a
 * form is posted (which every POST is checked on), and no other site learns the portal's URLs.
 */
const storePage = (build: (nonce: string) => unknown, options: PageOptions = {}) =>
  renderPage(build, { ...options, referrerPolicy: "same-origin" });

const noticeOf = (c: StoreContext) => NOTICES[c.req.query("notice") ?? ""];

function redirect(location: string, cookies: string[] = []): Response {
  const response = new Response(null, {
    status: 303,
    headers: { Location: location, "Cache-Control": "no-store" },
  });
  for (const cookie of cookies) response.headers.append("Set-Cookie", cookie);
  return response;
}

const applicationPath = (id: string) => `${STORE}/applications/${encodeURIComponent(id)}`;

async function viewerOf(c: StoreContext, session: PortalSession): Promise<Viewer> {
  return { username: session.username, csrf: await sessionToken(c.env, session.idHash) };
}

function messagePage(viewer: Viewer | null, status: number, title: string, message: string) {
  return storePage((nonce) => <MessagePage nonce={nonce} viewer={viewer} title={title} message={message} />, {
    status,
  });
}

const notFound = (viewer: Viewer) =>
  messagePage(viewer, 404, "Not found", "There is no such application or subscription among yours.");

// ---- sign-in and sign-out ---------------------------------------------------------------------------------

async function signInPage(
  c: StoreContext,
  extras: Flash & { username?: string; status?: number } = {},
): Promise<Response> {
  const { token, setCookie } = await signInToken(c);
  return storePage(
    (nonce) => (
      <SignInPage
        nonce={nonce}
        csrf={token}
        username={extras.username}
        error={extras.error}
        notice={extras.notice}
      />
    ),
    { status: extras.status ?? 200, cookies: setCookie ? [setCookie] : [] },
  );
}

/** The form of a POST, or null when it cannot be read (wrong media type, too large, repeated fields). */
async function formOf(c: StoreContext): Promise<FormParams | null> {
  try {
    return await readForm(c.req.raw);
  } catch (error) {
    if (error instanceof OAuthError) return null;
    throw error;
  }
}

const crossSite = (viewer: Viewer | null) =>
  messagePage(
    viewer,
    403,
    "This form could not be accepted",
    "It was not sent from this site, or the page was too old. Go back, reload the page and try again.",
  );
const unreadable = (viewer: Viewer | null) =>
  messagePage(viewer, 400, "This form could not be read", "Reload the page and send the form again.");

async function signIn(c: StoreContext): Promise<Response> {
  if (!sameOrigin(c.req.raw)) return crossSite(null);
  const form = await formOf(c);
  if (!form) return unreadable(null);
  if (!(await validSignInToken(c, form.get(CSRF_FIELD)))) {
    return signInPage(c, {
      status: 403,
      error: "The sign-in form expired or was not sent from this site. Please sign in again.",
    });
  }
  const username = form.get("username")?.trim() ?? "";
  const password = form.get("password") ?? "";
  if (username === "" || password === "") {
    return signInPage(c, { status: 400, username, error: "Enter your username and password." });
  }
  // The same check, failure count and lockout as the authorization endpoint's login page. Two calls to the
  // user's store: the admission, then the outcome with the new session (and the end of the browser's previous
  // one when it lives there too; one more call when it lives in another store).
  const previous = await presentedSession(c);
  const pending = await pendingSession(c, username, previous);
  const source = requestSource(c.req.raw.headers);
  const result = await authenticateUser(c.env, username, password, source, pending.session);
  if (!result.ok) return signInPage(c, { username, error: loginFailureMessage() });
  if (previous && pending.session.replaces === null) await endSessionOnServer(c.env, previous);
  return redirect(STORE, [pending.setCookie]);
}

interface Submitted {
  session: PortalSession;
  viewer: Viewer;
  form: FormParams;
}

/** Same origin, a live session, a readable form carrying that session's CSRF token: else the refusal page. */
async function submitted(c: StoreContext): Promise<Submitted | Response> {
  if (!sameOrigin(c.req.raw)) return crossSite(null);
  const session = await currentSession(c);
  if (!session) {
    return messagePage(null, 403, "You are signed out", "Your session has ended. Sign in again and retry.");
  }
  const viewer = await viewerOf(c, session);
  const form = await formOf(c);
  if (!form) return unreadable(viewer);
  if (!(await validSessionToken(c.env, session.idHash, form.get(CSRF_FIELD)))) return crossSite(viewer);
  return { session, viewer, form };
}

async function signOut(c: StoreContext): Promise<Response> {
  const post = await submitted(c);
  if (post instanceof Response) return post;
  return redirect(`${STORE}?notice=signed-out`, [await endSession(c, post.session)]);
}

// ---- pages ------------------------------------------------------------------------------------------------

async function applicationsPage(
  c: StoreContext,
  viewer: Viewer,
  extras: Flash & { form?: NewApplicationForm; status?: number } = {},
): Promise<Response> {
  const registry = registryStub(c.env);
  const [apps, tiers] = await Promise.all([registry.listApplications(viewer.username), offeredTiers(c.env)]);
  const counts = Object.fromEntries(
    await Promise.all(
      apps.map(async (app) => [app.id, (await registry.listSubscriptions({ applicationId: app.id })).length]),
    ),
  ) as Record<string, number>;
  return storePage(
    (nonce) => (
      <ApplicationsPage
        nonce={nonce}
        viewer={viewer}
        apps={apps}
        subscriptionCounts={counts}
        applicationTiers={tiers}
        form={extras.form ?? {}}
        error={extras.error}
        notice={extras.notice}
      />
    ),
    { status: extras.status ?? 200 },
  );
}

async function apisPage(
  c: StoreContext,
  viewer: Viewer,
  extras: Flash & { status?: number } = {},
): Promise<Response> {
  const registry = registryStub(c.env);
  const [apis, apps, tiers] = await Promise.all([
    registry.listApis(),
    registry.listApplications(viewer.username),
    offeredTiers(c.env),
  ]);
  const subscriptions = (
    await Promise.all(apps.map((app) => registry.listSubscriptions({ applicationId: app.id })))
  ).flat();
  return storePage(
    (nonce) => (
      <ApisPage
        nonce={nonce}
        viewer={viewer}
        apis={apis}
        apps={apps}
        subscriptions={subscriptions}
        subscriptionTiers={tiers}
        gateway={new URL(c.req.url).origin}
        error={extras.error}
        notice={extras.notice}
      />
    ),
    { status: extras.status ?? 200 },
  );
}

async function applicationPage(
  c: StoreContext,
  viewer: Viewer,
  app: ApplicationView,
  extras: Flash & { status?: number; shown?: ShownCredentials; keyForm?: KeyForm } = {},
): Promise<Response> {
  const registry = registryStub(c.env);
  const [subscriptions, apis, tiers] = await Promise.all([
    registry.listSubscriptions({ applicationId: app.id }),
    registry.listApis(),
    offeredTiers(c.env),
  ]);
  const subscribed = subscriptions.map((subscription) => ({
    subscription,
    api: apis.find((api) => api.id === subscription.apiId),
  }));
  const unsubscribedApis = apis.filter((api) => !subscriptions.some((s) => s.apiId === api.id));
  return storePage(
    (nonce) => (
      <ApplicationPage
        nonce={nonce}
        viewer={viewer}
        app={app}
        defaultValidity={c.var.config.applicationAccessTokenValidity}
        subscribed={subscribed}
        unsubscribedApis={unsubscribedApis}
        subscriptionTiers={tiers}
        shown={extras.shown}
        keyForm={extras.keyForm}
        error={extras.error}
        notice={extras.notice}
      />
    ),
    { status: extras.status ?? 200 },
  );
}

/** A page that needs a session: its viewer, or the way to the sign-in page. */
async function signedIn(c: StoreContext): Promise<Viewer | Response> {
  const session = await currentSession(c);
  return session ? viewerOf(c, session) : redirect(STORE);
}

async function home(c: StoreContext): Promise<Response> {
  const session = await currentSession(c);
  if (!session) return signInPage(c, { notice: noticeOf(c) });
  return applicationsPage(c, await viewerOf(c, session), { notice: noticeOf(c) });
}

async function apis(c: StoreContext): Promise<Response> {
  const viewer = await signedIn(c);
  if (viewer instanceof Response) return viewer;
  return apisPage(c, viewer, { notice: noticeOf(c) });
}

async function application(c: StoreContext): Promise<Response> {
  const viewer = await signedIn(c);
  if (viewer instanceof Response) return viewer;
  const app = await ownedApplication(c.env, viewer.username, c.req.param("id") ?? "");
  if (!app) return notFound(viewer);
  return applicationPage(c, viewer, app, { notice: noticeOf(c) });
}

// ---- applications -----------------------------------------------------------------------------------------

async function addApplication(c: StoreContext): Promise<Response> {
  const post = await submitted(c);
  if (post instanceof Response) return post;
  const { form, viewer } = post;
  const values: NewApplicationForm = {
    name: form.get("name"),
    tier: form.get("tier"),
    callbackUrl: form.get("callbackUrl"),
  };
  try {
    const name = applicationName(values.name, "Name");
    const tier = offeredTier(values.tier, await offeredTiers(c.env), "Application tier");
    const callback = values.callbackUrl?.trim();
    const created = await registryStub(c.env).createApplication(
      newApplication({
        name,
        owner: viewer.username,
        tier,
        callbackUrls: callback ? [callbackUrl(callback, "Callback URL")] : [],
      }),
      [],
    );
    if (!created.ok) {
      return applicationsPage(c, viewer, {
        status: created.failure.error === "conflict" ? 409 : 400,
        form: values,
        error:
          created.failure.error === "conflict"
            ? `You already have an application named "${name}". Choose another name.`
            : created.failure.message,
      });
    }
    return redirect(`${applicationPath(created.value.id)}?notice=created`);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return applicationsPage(c, viewer, { status: 400, form: values, error: error.message });
  }
}

/** Allowed domains and token validity from a key form (blank validity: the service's default). */
function keySettings(form: FormParams): { allowedDomains: string[]; accessTokenValidity: number | null } {
  return {
    allowedDomains: allowedDomainList(form.get("allowedDomains") ?? "", "Allowed domains") ?? [],
    accessTokenValidity: tokenValidity(form.get("validity"), "Token validity") ?? null,
  };
}

const keyFormOf = (form: FormParams): KeyForm => ({
  allowedDomains: form.get("allowedDomains") ?? "",
  validity: form.get("validity") ?? "",
});

function keyTypeOf(c: StoreContext): KeyType | null {
  const raw = c.req.param("keyType");
  return KEY_TYPES.find((type) => type === raw) ?? null;
}

/** An action on one of the viewer's applications: the application, or the 404 for any other id. */
async function onOwnApplication(
  c: StoreContext,
  action: (post: Submitted, app: ApplicationView) => Promise<Response>,
): Promise<Response> {
  const post = await submitted(c);
  if (post instanceof Response) return post;
  const app = await ownedApplication(c.env, post.viewer.username, c.req.param("id") ?? "");
  if (!app) return notFound(post.viewer);
  return action(post, app);
}

/** Re-reads the application after a change (it may have been deleted meanwhile). */
async function reloaded(c: StoreContext, viewer: Viewer, id: string): Promise<ApplicationView | null> {
  return ownedApplication(c.env, viewer.username, id);
}

/** WSO2 Store "Generate keys": the key pair of one type, with allowed domains, validity and a first token. */
const generateKeys = (c: StoreContext) =>
  onOwnApplication(c, async ({ viewer, form }, app) => {
    const keyType = keyTypeOf(c);
    if (!keyType) return notFound(viewer);
    let settings: ReturnType<typeof keySettings>;
    try {
      settings = keySettings(form);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      return applicationPage(c, viewer, app, {
        status: 400,
        error: error.message,
        keyForm: { ...keyFormOf(form), keyType },
      });
    }
    if (app.keys[keyType]) {
      return applicationPage(c, viewer, app, {
        status: 409,
        error: `The ${keyType} keys exist already. Regenerate the access token or the consumer secret instead.`,
      });
    }
    const registry = registryStub(c.env);
    const updated = await registry.updateApplication(app.id, settings);
    if (!updated.ok) return notFound(viewer);
    const key = await registry.generateKey(app.id, keyType);
    if (!key.ok) {
      return applicationPage(c, viewer, updated.value, {
        status: 409,
        error: `The ${keyType} keys exist already. Regenerate the access token or the consumer secret instead.`,
      });
    }
    const issued = await regenerateApplicationToken(c.env, c.var.config, {
      applicationId: app.id,
      keyType,
      scope: null,
      issuer: issuerOf(c.var.config, c.req.raw),
    });
    const fresh = await reloaded(c, viewer, app.id);
    if (!fresh) return notFound(viewer);
    return applicationPage(c, viewer, fresh, {
      notice: `${keyType} keys generated.`,
      shown: {
        keyType,
        consumerKey: key.value.consumerKey,
        consumerSecret: key.value.consumerSecret,
        ...(issued.found
          ? { accessToken: issued.token.access_token, expiresIn: issued.token.expires_in }
          : {}),
      },
    });
  });

const missingKey = (c: StoreContext, viewer: Viewer, app: ApplicationView, keyType: KeyType) =>
  applicationPage(c, viewer, app, {
    status: 409,
    error: `This application has no ${keyType} keys yet. Generate them first.`,
  });

/** WSO2 Store "Re-generate": the key's application tokens are revoked, and a new one is shown once. */
const regenerateToken = (c: StoreContext) =>
  onOwnApplication(c, async ({ viewer }, app) => {
    const keyType = keyTypeOf(c);
    if (!keyType) return notFound(viewer);
    if (!app.keys[keyType]) return missingKey(c, viewer, app, keyType);
    const issued = await regenerateApplicationToken(c.env, c.var.config, {
      applicationId: app.id,
      keyType,
      scope: null,
      issuer: issuerOf(c.var.config, c.req.raw),
    });
    if (!issued.found) return notFound(viewer);
    return applicationPage(c, viewer, app, {
      notice: `New ${keyType} access token issued; the previous one is revoked.`,
      shown: {
        keyType,
        consumerKey: issued.consumerKey,
        accessToken: issued.token.access_token,
        expiresIn: issued.token.expires_in,
      },
    });
  });

/** A new consumer secret, shown once; every token issued under the old one is revoked. */
const regenerateSecret = (c: StoreContext) =>
  onOwnApplication(c, async ({ viewer }, app) => {
    const keyType = keyTypeOf(c);
    if (!keyType) return notFound(viewer);
    if (!app.keys[keyType]) return missingKey(c, viewer, app, keyType);
    const regenerated = await registryStub(c.env).regenerateSecret(app.id, keyType);
    if (!regenerated.ok) return notFound(viewer);
    return applicationPage(c, viewer, app, {
      notice: `New ${keyType} consumer secret issued; tokens issued under the old one are revoked.`,
      shown: { keyType, ...regenerated.value },
    });
  });

const saveSettings = (c: StoreContext) =>
  onOwnApplication(c, async ({ viewer, form }, app) => {
    try {
      const updated = await registryStub(c.env).updateApplication(app.id, keySettings(form));
      if (!updated.ok) return notFound(viewer);
      return redirect(`${applicationPath(app.id)}?notice=saved`);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      return applicationPage(c, viewer, app, { status: 400, error: error.message, keyForm: keyFormOf(form) });
    }
  });

const deleteApplication = (c: StoreContext) =>
  onOwnApplication(c, async ({ viewer }, app) => {
    const deleted = await registryStub(c.env).deleteApplication(app.id);
    if (!deleted.ok) return notFound(viewer);
    return redirect(`${STORE}?notice=deleted`);
  });

// ---- subscriptions ----------------------------------------------------------------------------------------

async function subscribe(c: StoreContext): Promise<Response> {
  const post = await submitted(c);
  if (post instanceof Response) return post;
  const { viewer, form } = post;
  const app = await ownedApplication(c.env, viewer.username, form.get("applicationId") ?? "");
  if (!app) return notFound(viewer);
  const fromApis = form.get("from") === "apis";
  const back = (status: number, error: string) =>
    fromApis ? apisPage(c, viewer, { status, error }) : applicationPage(c, viewer, app, { status, error });
  let tier: string;
  try {
    tier = offeredTier(form.get("tier"), await offeredTiers(c.env), "Tier");
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return back(400, error.message);
  }
  const created = await registryStub(c.env).createSubscription(app.id, form.get("apiId") ?? "", tier);
  if (!created.ok) {
    if (created.failure.error === "conflict")
      return back(409, `${app.name} is already subscribed to that API.`);
    if (created.failure.error === "invalid") return back(400, created.failure.message);
    return back(404, "That API is not published (any more). Pick one from the list.");
  }
  return redirect(
    fromApis ? `${STORE}/apis?notice=subscribed` : `${applicationPath(app.id)}?notice=subscribed`,
  );
}

async function unsubscribe(c: StoreContext): Promise<Response> {
  const post = await submitted(c);
  if (post instanceof Response) return post;
  const registry = registryStub(c.env);
  const subscription = await registry.getSubscription(c.req.param("id") ?? "");
  const app = subscription.ok
    ? await ownedApplication(c.env, post.viewer.username, subscription.value.applicationId)
    : null;
  if (!subscription.ok || !app) return notFound(post.viewer);
  const deleted = await registry.deleteSubscription(subscription.value.id);
  if (!deleted.ok) return notFound(post.viewer);
  return redirect(`${applicationPath(app.id)}?notice=unsubscribed`);
}

/** A reload or bookmark of a form target: back to the portal's start page. */
const toStart = () => redirect(STORE);

async function unknownPage(c: StoreContext): Promise<Response> {
  const session = await currentSession(c);
  return messagePage(
    session ? await viewerOf(c, session) : null,
    404,
    "Not found",
    "There is no such page in the API Store.",
  );
}

/**
 * The portal changes what the gateway enforces (keys, tokens, subscriptions), so, like the admin API, every
 * change drops this isolate's remembered gateway facts.
 */
export const storeRoutes = new Hono<AppEnv>()
  .use(forgetGatewayFacts)
  .get("/", home)
  .get("/apis", apis)
  .get("/applications/:id", application)
  .post("/sign-in", signIn)
  .post("/sign-out", signOut)
  .post("/applications", addApplication)
  .post("/applications/:id/keys/:keyType/generate", generateKeys)
  .post("/applications/:id/keys/:keyType/regenerate-token", regenerateToken)
  .post("/applications/:id/keys/:keyType/regenerate-secret", regenerateSecret)
  .post("/applications/:id/settings", saveSettings)
  .post("/applications/:id/delete", deleteApplication)
  .post("/subscriptions", subscribe)
  .post("/subscriptions/:id/delete", unsubscribe)
  .get("/sign-in", toStart)
  .get("/sign-out", toStart)
  .all("*", unknownPage);
