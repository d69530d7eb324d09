/** @jsxImportSource hono/jsx */
import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import type { KeyType } from "../core/client-record";
import { NEVER_EXPIRES_IN } from "../core/config";
import type { ApiView, SubscriptionView } from "../durable/registry/apis";
import type { ApplicationView } from "../durable/registry/applications";
import type { OfferedTier } from "../services/tiers";
import { CSRF_FIELD } from "./csrf";
import { STORE_CSS } from "./styles";

/**
 * The developer portal's pages (README "Developer portal"), server-rendered with Hono JSX: every value is
 * escaped by JSX, no script, no external asset. Labels, button texts and `data-field` names are what people and
 * scripts drive the portal by (README "Developer portal"; test/e2e/store.test.mjs clicks through them).
 */

export const STORE = "/store";

/** The signed-in user and the CSRF token their forms carry. */
export interface Viewer {
  username: string;
  csrf: string;
}

export interface Flash {
  error?: string;
  notice?: string;
}

const Logo: FC = () => (
  <svg viewBox="0 0 32 32" aria-hidden="true">
    <rect width="32" height="32" rx="8" fill="#4c6fe0" />
    <circle cx="12" cy="16" r="5" fill="none" stroke="#fff" stroke-width="2.5" />
    <path d="M17 16h9M23 16v4M26 16v3" stroke="#fff" stroke-width="2.5" stroke-linecap="round" />
  </svg>
);

const Csrf: FC<{ token: string }> = ({ token }) => <input type="hidden" name={CSRF_FIELD} value={token} />;

type Section = "applications" | "apis" | null;

const Shell: FC<{
  nonce: string;
  title: string;
  viewer: Viewer | null;
  section?: Section;
  children: Child;
}> = ({ nonce, title, viewer, section = null, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="same-origin" />
      <title>{title} · API Store</title>
      <style nonce={nonce}>{raw(STORE_CSS)}</style>
    </head>
    <body>
      <header class="top">
        <div class="top-inner">
          <a class="brand" href={STORE}>
            <Logo />
            <span>
              API Store <small>edge-key-manager</small>
            </span>
          </a>
          {viewer ? (
            <nav class="main" aria-label="Main">
              <a href={STORE} aria-current={section === "applications" ? "page" : undefined}>
                Applications
              </a>
              <a href={`${STORE}/apis`} aria-current={section === "apis" ? "page" : undefined}>
                APIs
              </a>
            </nav>
          ) : null}
          {viewer ? (
            <div class="who">
              <span class="avatar" aria-hidden="true">
                {(viewer.username[0] ?? "?").toUpperCase()}
              </span>
              <span class="name" id="signed-in-user">
                {viewer.username}
              </span>
              <form method="post" action={`${STORE}/sign-out`}>
                <Csrf token={viewer.csrf} />
                <button type="submit">Sign out</button>
              </form>
            </div>
          ) : null}
        </div>
      </header>
      <main>{children}</main>
      <footer>Developer portal of edge-key-manager · OAuth 2.0 keys and API subscriptions</footer>
    </body>
  </html>
);

const Alerts: FC<Flash> = ({ error, notice }) => (
  <>
    {error ? (
      <p class="alert error" role="alert" id="store-error">
        {error}
      </p>
    ) : null}
    {notice ? (
      <p class="alert success" role="status" id="store-notice">
        {notice}
      </p>
    ) : null}
  </>
);

/** A validity in words: seconds, with "never expires" for a negative one. */
export function validityText(seconds: number): string {
  if (seconds < 0 || seconds >= NEVER_EXPIRES_IN) return "never expires";
  if (seconds % 86400 === 0 && seconds >= 86400) return `${seconds} s (${seconds / 86400} d)`;
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds} s (${seconds / 3600} h)`;
  return `${seconds} s`;
}

const TierOptions: FC<{ tiers: readonly OfferedTier[]; selected?: string }> = ({ tiers, selected }) => (
  <>
    {tiers.map((tier) => (
      <option value={tier.name} selected={tier.name === selected}>
        {tier.name} ({tier.summary})
      </option>
    ))}
  </>
);

// ---- sign-in ----------------------------------------------------------------------------------------------

export const SignInPage: FC<{ nonce: string; csrf: string; username?: string } & Flash> = (props) => (
  <Shell nonce={props.nonce} title="Sign in" viewer={null}>
    <div class="signin">
      <div class="card">
        <h1>Sign in to the API Store</h1>
        <p class="lead">
          Browse the published APIs, create applications, and manage their keys and subscriptions.
        </p>
        <Alerts error={props.error} notice={props.notice} />
        <form method="post" action={`${STORE}/sign-in`} autocomplete="on">
          <Csrf token={props.csrf} />
          <label for="username">Username</label>
          <input
            type="text"
            id="username"
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            required
            autofocus={!props.username}
            value={props.username ?? ""}
          />
          <p class="hint">
            For example <code>alice</code>, <code>alice@tenant.com</code> or <code>DOMAIN/alice</code>
          </p>
          <label for="password">Password</label>
          <input
            type="password"
            id="password"
            name="password"
            autocomplete="current-password"
            required
            autofocus={Boolean(props.username)}
          />
          <button type="submit" id="sign-in">
            Sign in
          </button>
        </form>
      </div>
    </div>
  </Shell>
);

// ---- applications -----------------------------------------------------------------------------------------

export interface NewApplicationForm {
  name?: string;
  tier?: string;
  callbackUrl?: string;
}

export const ApplicationsPage: FC<
  {
    nonce: string;
    viewer: Viewer;
    apps: ApplicationView[];
    subscriptionCounts: Record<string, number>;
    applicationTiers: readonly OfferedTier[];
    form: NewApplicationForm;
  } & Flash
> = (props) => (
  <Shell nonce={props.nonce} title="My applications" viewer={props.viewer} section="applications">
    <div class="page-head">
      <div>
        <h1>My applications</h1>
        <p class="lead">An application holds PRODUCTION and SANDBOX keys and subscribes to APIs.</p>
      </div>
    </div>
    <Alerts error={props.error} notice={props.notice} />
    <div class="split">
      <section aria-labelledby="apps-title">
        <h2 id="apps-title" class="sr-title">
          Applications ({props.apps.length})
        </h2>
        {props.apps.length === 0 ? (
          <div class="empty">
            <p>
              <strong>No applications yet.</strong>
            </p>
            <p class="small">Add one with the form to get keys and subscribe to APIs.</p>
          </div>
        ) : (
          <div class="card">
            <table class="stack" id="applications">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Tier</th>
                  <th>Keys</th>
                  <th>Subscriptions</th>
                  <th class="right">Created</th>
                </tr>
              </thead>
              <tbody>
                {props.apps.map((app) => (
                  <tr data-application-id={app.id}>
                    <td>
                      <a href={`${STORE}/applications/${encodeURIComponent(app.id)}`} class="app-link">
                        <strong>{app.name}</strong>
                      </a>
                    </td>
                    <td data-label="Tier">{app.tier}</td>
                    <td data-label="Keys">
                      {app.keys.PRODUCTION ? <span class="badge prod">PRODUCTION</span> : null}{" "}
                      {app.keys.SANDBOX ? <span class="badge sandbox">SANDBOX</span> : null}
                      {!app.keys.PRODUCTION && !app.keys.SANDBOX ? (
                        <span class="badge grey">no keys yet</span>
                      ) : null}
                    </td>
                    <td data-label="Subscriptions">{props.subscriptionCounts[app.id] ?? 0}</td>
                    <td data-label="Created" class="right muted small">
                      {app.createdAt.slice(0, 10)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="card" aria-labelledby="add-title">
        <h2 id="add-title">Add application</h2>
        <form method="post" action={`${STORE}/applications`}>
          <Csrf token={props.viewer.csrf} />
          <label for="app-name">Name</label>
          <input type="text" id="app-name" name="name" value={props.form.name ?? ""} required />
          <label for="app-tier">Application tier</label>
          <select id="app-tier" name="tier">
            <TierOptions tiers={props.applicationTiers} selected={props.form.tier ?? "Unlimited"} />
          </select>
          <p class="hint">Limits the application's calls across all APIs.</p>
          <label for="app-callback">Callback URL</label>
          <input
            type="text"
            id="app-callback"
            name="callbackUrl"
            inputmode="url"
            placeholder="https://app.example.com/callback"
            value={props.form.callbackUrl ?? ""}
          />
          <p class="hint">Optional: where the authorization code and implicit grants send users back.</p>
          <div class="actions">
            <button type="submit" id="add-application">
              Add application
            </button>
          </div>
        </form>
      </section>
    </div>
  </Shell>
);

// ---- APIs -------------------------------------------------------------------------------------------------

export const ApisPage: FC<
  {
    nonce: string;
    viewer: Viewer;
    apis: ApiView[];
    apps: ApplicationView[];
    subscriptions: SubscriptionView[];
    subscriptionTiers: readonly OfferedTier[];
    gateway: string;
  } & Flash
> = (props) => (
  <Shell nonce={props.nonce} title="APIs" viewer={props.viewer} section="apis">
    <div class="page-head">
      <div>
        <h1>APIs</h1>
        <p class="lead">Published APIs. Subscribe one of your applications to call an API with its keys.</p>
      </div>
    </div>
    <Alerts error={props.error} notice={props.notice} />
    {props.apis.length === 0 ? (
      <div class="empty">
        <p>
          <strong>No APIs are published yet.</strong>
        </p>
      </div>
    ) : (
      <div class="grid" id="apis">
        {props.apis.map((api) => {
          const subscribed = props.subscriptions.filter((s) => s.apiId === api.id);
          const open = props.apps.filter((app) => !subscribed.some((s) => s.applicationId === app.id));
          return (
            <article class="card api" data-api-id={api.id}>
              <div class="card-title">
                <h2>{api.name}</h2>
                <span class="badge">{api.version}</span>
              </div>
              <p class="api-context">
                {api.context}/{api.version}
              </p>
              <p class="api-path">
                {props.gateway}
                {api.context}/{api.version}
              </p>
              <p class="small muted">
                {api.sandboxEndpoint ? "Production and sandbox endpoints" : "Production endpoint only"}
              </p>
              {subscribed.length > 0 ? (
                <p class="small">
                  Subscribed:{" "}
                  {subscribed.map((s, i) => (
                    <>
                      {i > 0 ? ", " : ""}
                      <strong>{props.apps.find((app) => app.id === s.applicationId)?.name}</strong> ({s.tier})
                    </>
                  ))}
                </p>
              ) : null}
              <div class="grow" />
              {props.apps.length === 0 ? (
                <p class="small muted subscribe">
                  <a href={STORE}>Add an application</a> to subscribe to this API.
                </p>
              ) : open.length === 0 ? (
                <p class="small muted subscribe">All your applications are subscribed.</p>
              ) : (
                <form method="post" action={`${STORE}/subscriptions`} class="subscribe">
                  <Csrf token={props.viewer.csrf} />
                  <input type="hidden" name="apiId" value={api.id} />
                  <input type="hidden" name="from" value="apis" />
                  <div class="row">
                    <div class="field">
                      <label for={`app-${api.id}`}>Application</label>
                      <select id={`app-${api.id}`} name="applicationId">
                        {open.map((app) => (
                          <option value={app.id}>{app.name}</option>
                        ))}
                      </select>
                    </div>
                    <div class="field">
                      <label for={`tier-${api.id}`}>Tier</label>
                      <select id={`tier-${api.id}`} name="tier">
                        <TierOptions tiers={props.subscriptionTiers} selected="Gold" />
                      </select>
                    </div>
                  </div>
                  <div class="actions tight">
                    <button type="submit">Subscribe</button>
                  </div>
                </form>
              )}
            </article>
          );
        })}
      </div>
    )}
  </Shell>
);

// ---- one application --------------------------------------------------------------------------------------

/** Credentials shown once, right after they were made (never stored, never in a URL). */
export interface ShownCredentials {
  keyType: KeyType;
  consumerKey: string;
  consumerSecret?: string;
  accessToken?: string;
  expiresIn?: number;
}

export interface KeyForm {
  keyType?: KeyType;
  allowedDomains?: string;
  validity?: string;
}

export interface SubscribedApi {
  subscription: SubscriptionView;
  api: ApiView | undefined;
}

const KEY_LABELS: Record<KeyType, { title: string; badge: string; blurb: string }> = {
  PRODUCTION: {
    title: "Production keys",
    badge: "prod",
    blurb: "Calls go to each API's production endpoint.",
  },
  SANDBOX: { title: "Sandbox keys", badge: "sandbox", blurb: "Calls go to each API's sandbox endpoint." },
};

const Shown: FC<{ shown: ShownCredentials }> = ({ shown }) => (
  <section
    class="card shown"
    aria-labelledby="shown-title"
    id="shown-credentials"
    data-key-type={shown.keyType}
  >
    <h2 id="shown-title">Copy these now: they are shown only once</h2>
    <p class="small">
      {shown.keyType} key. The consumer secret and access token are not stored in readable form; if you lose
      them, regenerate them.
    </p>
    <div class="field">
      <span class="label">Consumer key</span>
      <code class="value" data-field="consumer-key">
        {shown.consumerKey}
      </code>
    </div>
    {shown.consumerSecret ? (
      <div class="field">
        <span class="label">Consumer secret</span>
        <code class="value" data-field="consumer-secret">
          {shown.consumerSecret}
        </code>
      </div>
    ) : null}
    {shown.accessToken ? (
      <div class="field">
        <span class="label">
          Access token
          {shown.expiresIn === undefined
            ? ""
            : shown.expiresIn >= NEVER_EXPIRES_IN
              ? " (never expires)"
              : ` (expires in ${validityText(shown.expiresIn)})`}
        </span>
        <code class="value" data-field="access-token">
          {shown.accessToken}
        </code>
      </div>
    ) : null}
  </section>
);

const KeySettingsFields: FC<{ id: string; domains: string; validity: string }> = (props) => (
  <div class="row">
    <div class="field">
      <label for={`domains-${props.id}`}>Allowed domains</label>
      <input
        type="text"
        id={`domains-${props.id}`}
        name="allowedDomains"
        value={props.domains}
        placeholder="example.com, *.example.com"
      />
      <p class="hint">Comma-separated host names. Empty: any domain.</p>
    </div>
    <div class="field">
      <label for={`validity-${props.id}`}>Token validity (seconds)</label>
      <input
        type="text"
        id={`validity-${props.id}`}
        name="validity"
        inputmode="numeric"
        value={props.validity}
      />
      <p class="hint">A negative number: tokens never expire.</p>
    </div>
  </div>
);

const KeyPanel: FC<{
  app: ApplicationView;
  keyType: KeyType;
  viewer: Viewer;
  domains: string;
  validity: string;
}> = ({ app, keyType, viewer, domains, validity }) => {
  const key = app.keys[keyType];
  const label = KEY_LABELS[keyType];
  const base = `${STORE}/applications/${encodeURIComponent(app.id)}/keys/${keyType}`;
  return (
    <section class="card key" data-key-type={keyType} aria-labelledby={`key-${keyType}`}>
      <div class="card-title">
        <h2 id={`key-${keyType}`}>{label.title}</h2>
        <span class={`badge ${label.badge}`}>{keyType}</span>
      </div>
      <p class="small muted">{label.blurb}</p>
      {key ? (
        <>
          <dl class="facts">
            <dt>Consumer key</dt>
            <dd>
              <code data-field="consumer-key">{key.consumerKey}</code>
            </dd>
            <dt>Consumer secret</dt>
            <dd class="muted">shown once when generated</dd>
          </dl>
          <div class="actions tight">
            <form method="post" action={`${base}/regenerate-token`} class="inline">
              <Csrf token={viewer.csrf} />
              <button type="submit">Regenerate access token</button>
            </form>
            <form method="post" action={`${base}/regenerate-secret`} class="inline">
              <Csrf token={viewer.csrf} />
              <button type="submit" class="secondary">
                Regenerate consumer secret
              </button>
            </form>
          </div>
          <p class="hint">
            Regenerating the access token revokes the previous application token at once; a new consumer
            secret revokes every token issued under the old one.
          </p>
        </>
      ) : (
        <form method="post" action={`${base}/generate`}>
          <Csrf token={viewer.csrf} />
          <KeySettingsFields id={keyType} domains={domains} validity={validity} />
          <div class="actions">
            <button type="submit">Generate keys</button>
          </div>
        </form>
      )}
    </section>
  );
};

export const ApplicationPage: FC<
  {
    nonce: string;
    viewer: Viewer;
    app: ApplicationView;
    defaultValidity: number;
    subscribed: SubscribedApi[];
    unsubscribedApis: ApiView[];
    subscriptionTiers: readonly OfferedTier[];
    shown?: ShownCredentials;
    keyForm?: KeyForm;
  } & Flash
> = (props) => {
  const { app, viewer } = props;
  const appPath = `${STORE}/applications/${encodeURIComponent(app.id)}`;
  const domains = props.keyForm?.allowedDomains ?? app.allowedDomains.join(", ");
  const validity = props.keyForm?.validity ?? String(app.accessTokenValidity ?? props.defaultValidity);
  const effectiveValidity = app.accessTokenValidity ?? props.defaultValidity;
  const anyKey = Boolean(app.keys.PRODUCTION || app.keys.SANDBOX);
  return (
    <Shell nonce={props.nonce} title={app.name} viewer={viewer} section="applications">
      <div class="crumbs">
        <a href={STORE}>My applications</a> /
      </div>
      <div class="page-head">
        <div>
          <h1 id="application-name">{app.name}</h1>
          <p class="lead">
            <span class="badge" id="application-tier">
              {app.tier}
            </span>{" "}
            tier · created {app.createdAt.slice(0, 10)}
            {app.callbackUrl ? (
              <>
                {" "}
                · callback <code>{app.callbackUrl}</code>
              </>
            ) : null}
          </p>
        </div>
      </div>
      <Alerts error={props.error} notice={props.notice} />
      {props.shown ? <Shown shown={props.shown} /> : null}
      <div class="keys">
        <KeyPanel app={app} keyType="PRODUCTION" viewer={viewer} domains={domains} validity={validity} />
        <KeyPanel app={app} keyType="SANDBOX" viewer={viewer} domains={domains} validity={validity} />
      </div>
      {anyKey ? (
        <section class="card" aria-labelledby="settings-title">
          <h2 id="settings-title">Key settings</h2>
          <p class="small muted">
            For both keys of this application. Allowed now:{" "}
            <strong id="current-domains">
              {app.allowedDomains.length > 0 ? app.allowedDomains.join(", ") : "any domain"}
            </strong>
            ; token validity <strong id="current-validity">{validityText(effectiveValidity)}</strong>.
          </p>
          <form method="post" action={`${appPath}/settings`}>
            <Csrf token={viewer.csrf} />
            <KeySettingsFields id="settings" domains={domains} validity={validity} />
            <div class="actions">
              <button type="submit" class="secondary">
                Save settings
              </button>
            </div>
          </form>
        </section>
      ) : null}
      <section class="card" aria-labelledby="subs-title">
        <h2 id="subs-title">Subscriptions</h2>
        {props.unsubscribedApis.length > 0 ? (
          <form method="post" action={`${STORE}/subscriptions`} class="subscribe-box">
            <h3>Subscribe to an API</h3>
            <Csrf token={viewer.csrf} />
            <input type="hidden" name="applicationId" value={app.id} />
            <div class="row">
              <div class="field">
                <label for="subscribe-api">API</label>
                <select id="subscribe-api" name="apiId">
                  {props.unsubscribedApis.map((api) => (
                    <option value={api.id}>
                      {api.name} {api.version} ({api.context}/{api.version})
                    </option>
                  ))}
                </select>
              </div>
              <div class="field">
                <label for="subscribe-tier">Tier</label>
                <select id="subscribe-tier" name="tier">
                  <TierOptions tiers={props.subscriptionTiers} selected="Gold" />
                </select>
              </div>
            </div>
            <div class="actions tight">
              <button type="submit">Subscribe</button>
            </div>
          </form>
        ) : (
          <p class="small muted">
            {props.subscribed.length > 0
              ? "Subscribed to every published API."
              : "No APIs are published yet."}
          </p>
        )}
        {props.subscribed.length > 0 ? (
          <table class="stack" id="subscriptions">
            <thead>
              <tr>
                <th>API</th>
                <th>Path</th>
                <th>Tier</th>
                <th class="right">
                  <span class="muted">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.subscribed.map(({ subscription, api }) => (
                <tr data-subscription-id={subscription.id}>
                  <td>
                    <strong>{api?.name ?? subscription.apiId}</strong> {api?.version}
                  </td>
                  <td class="api-path" data-label="Path">
                    {api ? `${api.context}/${api.version}` : ""}
                  </td>
                  <td data-label="Tier">
                    <span class="badge">{subscription.tier}</span>
                  </td>
                  <td class="right">
                    <form
                      method="post"
                      action={`${STORE}/subscriptions/${encodeURIComponent(subscription.id)}/delete`}
                      class="inline"
                    >
                      <Csrf token={viewer.csrf} />
                      <button type="submit" class="secondary">
                        Unsubscribe
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <section class="card danger-zone" aria-labelledby="delete-title">
        <h2 id="delete-title">Delete this application</h2>
        <p class="small muted">
          Its keys stop working and every token issued to it is revoked. This cannot be undone.
        </p>
        <form method="post" action={`${appPath}/delete`}>
          <Csrf token={viewer.csrf} />
          <button type="submit" class="danger">
            Delete application
          </button>
        </form>
      </section>
    </Shell>
  );
};

// ---- messages ---------------------------------------------------------------------------------------------

export const MessagePage: FC<{ nonce: string; viewer: Viewer | null; title: string; message: string }> = (
  props,
) => (
  <Shell nonce={props.nonce} title={props.title} viewer={props.viewer}>
    <div class="signin">
      <div class="card">
        <h1>{props.title}</h1>
        <p class="alert error" role="alert" id="store-error">
          {props.message}
        </p>
        <p>
          <a href={STORE}>{props.viewer ? "Back to my applications" : "Sign in"}</a>
        </p>
      </div>
    </div>
  </Shell>
);
