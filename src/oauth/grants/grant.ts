import type { Config } from "../../core/config";
import type { TokenResponseBody } from "../../durable/shard/protocol";
import type { FormParams } from "../../http/form";
import type { PresentedClient } from "../../services/presented-client";

/** What a grant handler is given: the bindings and configuration, the parsed form and the presented client. */
export interface GrantContext {
  env: Env;
  config: Config;
  params: FormParams;
  client: PresentedClient;
  /** The metadata's issuer: the origin the token endpoint was called at. */
  issuer: string;
  /** The token endpoint's URL as called (RFC 7523 §3: an assertion's audience). */
  tokenEndpoint: string;
}

/**
 * One grant type of the token endpoint (RFC 6749 §4, §6; extension grants per §4.5). A grant validates its
 * own parameters, then asks the client's Durable Object shard to authenticate the client and mint tokens, in
 * one call.
 */
export interface Grant {
  readonly type: string;
  issue(context: GrantContext): Promise<TokenResponseBody>;
}
