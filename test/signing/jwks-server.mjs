// A real JWKS host for the jwt-bearer tests (node:http on an ephemeral loopback port, started by
// test/signing/global-setup.ts). Plain JavaScript: it runs in Node, not in workerd.
//   PUT /keys/<id>      stores the JWK Set in the body; GET /keys/<id> then serves it
//   GET /fetches/<id>   how often /keys/<id> was fetched
//   GET /hang           never answers (for the fetch timeout)
//   GET /status/<code>  answers that status without keys
import { createServer } from "node:http";

export async function startJwksServer() {
  const sets = new Map();
  const fetches = new Map();
  const hanging = new Set();
  const server = createServer((request, response) => {
    const [, kind, id = ""] = (request.url ?? "/").split("/");
    if (kind === "keys" && request.method === "PUT") {
      const chunks = [];
      request.on("data", (chunk) => chunks.push(chunk));
      request.on("end", () => {
        sets.set(id, Buffer.concat(chunks).toString());
        response.writeHead(204).end();
      });
      return;
    }
    if (kind === "keys" && sets.has(id)) {
      fetches.set(id, (fetches.get(id) ?? 0) + 1);
      response.writeHead(200, { "content-type": "application/json" }).end(sets.get(id));
      return;
    }
    if (kind === "fetches") {
      response.writeHead(200, { "content-type": "application/json" }).end(String(fetches.get(id) ?? 0));
      return;
    }
    if (kind === "hang") {
      hanging.add(response);
      return;
    }
    if (kind === "status") {
      response.writeHead(Number(id) || 500, { "content-type": "text/plain" }).end("no keys here");
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
