/** @jsxImportSource hono/jsx */
import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";
import { PAGE_CSS } from "./styles";

/** Server-rendered pages of the authorization endpoint (login, consent, error), with Hono JSX. */

/** A Map, not an object literal: a scope named `constructor` or `__proto__` must not find Object.prototype's. */
const SCOPE_DESCRIPTIONS: ReadonlyMap<string, string> = new Map([
  ["default", "Call the APIs this application is subscribed to, on your behalf"],
  ["PRODUCTION", "Use the application's production keys"],
  ["SANDBOX", "Use the application's sandbox keys"],
]);
const OTHER_SCOPE = "Permission requested by the application";

export const LOGIN_ACTION = "/authorize/login";
export const CONSENT_ACTION = "/authorize/consent";
/** Name of the hidden field that carries the signed authorization request (see form-signing.ts). */
export const FORM_FIELD = "authz";

const Logo: FC = () => (
  <svg viewBox="0 0 32 32" aria-hidden="true">
    <rect width="32" height="32" rx="8" fill="#2f5bd3" />
    <circle cx="12" cy="16" r="5" fill="none" stroke="#fff" stroke-width="2.5" />
    <path d="M17 16h9M23 16v4M26 16v3" stroke="#fff" stroke-width="2.5" stroke-linecap="round" />
  </svg>
);

const Layout: FC<{ title: string; nonce: string; children: Child }> = ({ title, nonce, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>{title} · edge-key-manager</title>
      <style nonce={nonce}>{raw(PAGE_CSS)}</style>
    </head>
    <body>
      <div class="brand">
        <Logo />
        <span>edge-key-manager</span>
      </div>
      <main class="card">{children}</main>
      <footer>OAuth 2.0 authorization server</footer>
    </body>
  </html>
);

const Scopes: FC<{ scope: string }> = ({ scope }) => (
  <ul class="scopes">
    {scope
      .split(" ")
      .filter((item) => item !== "")
      .map((item) => (
        <li>
          <code>{item}</code>
          <span>{SCOPE_DESCRIPTIONS.get(item) ?? OTHER_SCOPE}</span>
        </li>
      ))}
  </ul>
);

export interface LoginPageProps {
  nonce: string;
  applicationName: string;
  scope: string;
  form: string;
  username?: string;
  error?: string;
  notice?: string;
}

export const LoginPage: FC<LoginPageProps> = (props) => (
  <Layout title="Sign in" nonce={props.nonce}>
    <h1>Sign in</h1>
    <p class="lead">
      to continue to <span class="app">{props.applicationName}</span>
    </p>
    {props.error ? (
      <p class="alert error" role="alert" id="login-error">
        {props.error}
      </p>
    ) : null}
    {props.notice ? (
      <p class="alert info" role="status">
        {props.notice}
      </p>
    ) : null}
    <form method="post" action={LOGIN_ACTION} autocomplete="on">
      <input type="hidden" name={FORM_FIELD} value={props.form} />
      <label for="username">User name</label>
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
      <p class="section-title">Requested access</p>
      <Scopes scope={props.scope} />
      <div class="buttons">
        <button type="submit" class="primary" id="sign-in">
          Sign in
        </button>
      </div>
    </form>
  </Layout>
);

export interface ConsentPageProps {
  nonce: string;
  applicationName: string;
  user: string;
  scope: string;
  redirectUri: string;
  form: string;
}

export const ConsentPage: FC<ConsentPageProps> = (props) => (
  <Layout title="Authorize access" nonce={props.nonce}>
    <h1>Authorize {props.applicationName}</h1>
    <p class="lead">
      <span class="app">{props.applicationName}</span> is asking for access to your account.
    </p>
    <div class="user">
      <span class="avatar" aria-hidden="true">
        {(props.user[0] ?? "?").toUpperCase()}
      </span>
      <span>
        Signed in as <strong id="signed-in-user">{props.user}</strong>
      </span>
    </div>
    <p class="section-title">This application will be able to</p>
    <Scopes scope={props.scope} />
    <form method="post" action={CONSENT_ACTION}>
      <input type="hidden" name={FORM_FIELD} value={props.form} />
      <div class="buttons">
        <button type="submit" name="decision" value="deny" class="secondary" id="deny">
          Deny
        </button>
        <button type="submit" name="decision" value="approve" class="primary" id="approve">
          Allow
        </button>
      </div>
    </form>
    <p class="redirect">
      You will be sent back to <span>{props.redirectUri}</span>
    </p>
  </Layout>
);

export interface ErrorPageProps {
  nonce: string;
  title: string;
  error: string;
  description: string;
}

export const ErrorPage: FC<ErrorPageProps> = (props) => (
  <Layout title={props.title} nonce={props.nonce}>
    <h1>{props.title}</h1>
    <p class="alert error" role="alert">
      {props.description}
    </p>
    <p class="hint">
      Error code: <span class="error-code">{props.error}</span>
    </p>
    <p class="hint">Go back to the application and start the sign-in again.</p>
  </Layout>
);
