/**
 * The access token of a request, from `Authorization: Bearer <token>` (RFC 6750 §2.1), the only method the
 * gateway accepts (WSO2's gateway likewise reads the header only).
 * - `none`: no credentials, or another scheme (§3.1: answer without an error code);
 * - `token`: the presented credential, possibly not one of ours (then it is simply an invalid token).
 */
export type PresentedToken = { kind: "none" } | { kind: "token"; token: string };

export function readBearerToken(headers: Headers): PresentedToken {
  const authorization = headers.get("authorization");
  if (!authorization) return { kind: "none" };
  const match = /^\s*bearer(?:\s+(.*?))?\s*$/i.exec(authorization);
  if (!match) return { kind: "none" };
  const token = match[1] ?? "";
  return token === "" ? { kind: "none" } : { kind: "token", token };
}
