import type { ClientCredentials } from "../../core/client-credentials";
import type { Config } from "../../core/config";
import type { ClientRouting } from "../../durable/registry";
import type { TokenResponseBody } from "../../durable/shard/protocol";
import type { Env } from "../../env";
import type { FormParams } from "../../http/form";

/** What a grant handler is given: the parsed form, the client's (unverified) credentials and its routing. */
export interface GrantContext {
  env: Env;
  config: Config;
  params: FormParams;
  credentials: ClientCredentials;
  routing: ClientRouting;
  request: Request;
  /** The metadata's issuer: the origin the token endpoint was called at. */
  issuer: string;
}

/**
 * One grant type of the token endpoint (RFC 6749 §4, §6; extension grants per §4.5). A grant validates its
 * own parameters, then asks the client's Durable Object shard to authenticate the client and mint tokens.
 */
export interface Grant {
  readonly type: string;
  issue(context: GrantContext): Promise<TokenResponseBody>;
}
