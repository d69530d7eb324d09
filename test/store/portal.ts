// Drives the developer portal the way a browser does, with a cookie jar by hand (SELF.fetch has none) and
// without following redirects.
import { SELF } from "cloudflare:test";
import { adminJson, createUser, ORIGIN } from "../helpers";

export const STORE = "/store";

/** One browser: its cookies, and the last page it saw. */
export class Portal {
  readonly cookies = new Map<string, string>();
  html = "";
  constructor(readonly origin = ORIGIN) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  private keep(response: Response): void {
    for (const line of setCookies(response)) {
      const [pair] = line.split(";");
      const eq = (pair as string).indexOf("=");
      const name = (pair as string).slice(0, eq).trim();
      const value = (pair as string).slice(eq + 1).trim();
      if (value === "" || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string): Promise<Response> {
    const response = await SELF.fetch(`${this.origin}${path}`, {
      redirect: "manual",
      headers: { Cookie: this.cookieHeader() },
    });
    this.keep(response);
    this.html = await response.clone().text();
    return response;
  }

  /**
   * POSTs a form as this browser would from its last page: same Origin and the page's CSRF token, unless
   * `options` says otherwise (another origin, another token, none).
   */
  async post(
    path: string,
    params: Record<string, string>,
    options: { origin?: string | null; csrf?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const csrf = options.csrf === undefined ? this.csrf() : options.csrf;
    const body = new URLSearchParams(params);
    if (csrf !== null) body.set("csrf", csrf);
    const headers: Record<string, string> = {
      "Content-Type": "application/x-www-form-urlencoded",
      Cookie: this.cookieHeader(),
    };
    const origin = options.origin === undefined ? this.origin : options.origin;
    if (origin !== null) headers.Origin = origin;
    Object.assign(headers, options.headers);
    const response = await SELF.fetch(`${this.origin}${path}`, {
      method: "POST",
      redirect: "manual",
      headers,
      body: body.toString(),
    });
    this.keep(response);
    this.html = await response.clone().text();
    return response;
  }

  /** The CSRF token in the last page's forms. */
  csrf(): string {
    const match = /name="csrf" value="([^"]+)"/.exec(this.html);
    if (!match) throw new Error(`no CSRF field on the page:\n${this.html.slice(0, 1500)}`);
    return match[1] as string;
  }

  /** The text of the element carrying `data-field="<name>"`, first on the page. */
  field(name: string): string | null {
    const match = new RegExp(`data-field="${name}"[^>]*>([^<]*)<`).exec(this.html);
    return match ? (match[1] as string).trim() : null;
  }

  error(): string | null {
    const match = /id="store-error"[^>]*>([^<]*)</.exec(this.html);
    return match ? decodeEntities((match[1] as string).trim()) : null;
  }

  async signIn(username: string, password: string): Promise<Response> {
    await this.get(STORE);
    return this.post(`${STORE}/sign-in`, { username, password });
  }

  sessionCookieName(): string {
    return this.origin.startsWith("https:") ? "__Host-ekm_store" : "ekm_store";
  }
}

/** Each `Set-Cookie` of a response (workerd has Headers.getSetCookie; the types in use do not list it). */
export function setCookies(response: Response): string[] {
  return (response.headers as unknown as { getSetCookie(): string[] }).getSetCookie();
}

export function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** A new user of the user store, signed in in a fresh browser. */
export async function signedInUser(): Promise<{ portal: Portal; username: string; password: string }> {
  const user = await createUser();
  const portal = new Portal();
  const response = await portal.signIn(user.username, user.password);
  if (response.status !== 303) throw new Error(`sign-in: ${response.status}\n${portal.html.slice(0, 1500)}`);
  await portal.get(STORE);
  return { portal, username: user.canonical, password: user.password };
}

/** Adds an application through the portal; answers its id. */
export async function addApplication(portal: Portal, name: string, tier = "Unlimited"): Promise<string> {
  await portal.get(STORE);
  const response = await portal.post(`${STORE}/applications`, { name, tier });
  const location = response.headers.get("location") ?? "";
  const match = /\/store\/applications\/([^?]+)/.exec(location);
  if (response.status !== 303 || !match)
    throw new Error(`add application: ${response.status}\n${portal.html.slice(0, 1500)}`);
  await portal.get(location);
  return decodeURIComponent(match[1] as string);
}

export interface AdminApplication {
  id: string;
  name: string;
  owner: string;
  tier: string;
  allowedDomains: string[];
  accessTokenValidity: number | null;
  keys: Partial<Record<"PRODUCTION" | "SANDBOX", { consumerKey: string }>>;
}

export function adminApplication(id: string): Promise<AdminApplication> {
  return adminJson<AdminApplication>("GET", `/applications/${id}`);
}
