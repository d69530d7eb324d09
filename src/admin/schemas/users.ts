import { createRoute, z } from "@hono/zod-openapi";
import { jsonObjectBody } from "../admin-app";
import { errors, integer, jsonBody, jsonResponse, NoContent, optionalText, text } from "./fields";

const MAX_PASSWORD = 256;

const password = z
  .string({ error: "password is required" })
  .min(1, { error: "password is required" })
  .max(MAX_PASSWORD, { error: `password must be at most ${MAX_PASSWORD} characters` })
  .openapi({ format: "password" });

export const User = z
  .object({
    username: z.string().openapi({ example: "alice@carbon.super", description: "[DOMAIN/]name@tenant" }),
    name: z.string().openapi({ example: "alice" }),
    tenant: z.string().openapi({ example: "carbon.super" }),
    userStoreDomain: z.string().openapi({ example: "PRIMARY" }),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("User");

export const NewUser = z
  .object({
    username: text("username", 100).openapi({
      description: "letters, digits and . _ - + ([DOMAIN/]name[@tenant])",
      example: "alice",
    }),
    password,
    tenant: optionalText("tenant", 100).openapi({ description: "default carbon.super" }),
    userStoreDomain: optionalText("userStoreDomain", 50).openapi({ description: "default PRIMARY" }),
  })
  .openapi("NewUser");

const PasswordChange = z.object({ password }).openapi("PasswordChange");

const UsernameParam = z.object({
  username: z
    .string()
    .min(1)
    .openapi({ param: { name: "username", in: "path" }, example: "alice@carbon.super" }),
});

const tags = ["users"];

export const createUser = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create a user",
  middleware: [jsonObjectBody] as const,
  request: { body: jsonBody(NewUser) },
  responses: { 201: jsonResponse(User, "The user (never the password)"), ...errors(400, 409, 413, 415) },
});

/** Users per page of `GET /admin/users` unless `limit` says otherwise, and the most a page holds. */
export const DEFAULT_USER_PAGE = 100;
export const MAX_USER_PAGE = 1000;

const UserListQuery = z.object({
  limit: integer("limit", 1, MAX_USER_PAGE)
    .optional()
    .openapi({ description: `users per page (default ${DEFAULT_USER_PAGE})` }),
  after: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: "the last user name of the previous page", example: "alice@carbon.super" }),
});

export const listUsers = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List the users, a page at a time",
  description:
    'Users in name order. When there are more, the `Link` header names the next page (`rel="next"`, RFC 8288).',
  request: { query: UserListQuery },
  responses: {
    200: {
      ...jsonResponse(z.array(User), "One page of users"),
      headers: z.object({ Link: z.string().optional().openapi({ description: "the next page, if any" }) }),
    },
    ...errors(400),
  },
});

export const getUser = createRoute({
  method: "get",
  path: "/{username}",
  tags,
  summary: "Read a user",
  request: { params: UsernameParam },
  responses: { 200: jsonResponse(User, "The user"), ...errors(404) },
});

/** PUT and PATCH alike: the only change is the password. */
export const changePassword = (method: "put" | "patch") =>
  createRoute({
    method,
    path: "/{username}",
    tags,
    summary: "Change a user's password (revokes the user's tokens)",
    middleware: [jsonObjectBody] as const,
    request: { params: UsernameParam, body: jsonBody(PasswordChange) },
    responses: { 200: jsonResponse(User, "The user"), ...errors(400, 404, 413, 415) },
  });

export const deleteUser = createRoute({
  method: "delete",
  path: "/{username}",
  tags,
  summary: "Delete a user (revokes the user's tokens)",
  request: { params: UsernameParam },
  responses: { 204: NoContent, ...errors(404) },
});
