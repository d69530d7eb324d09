// A real HTTP backend for the gateway tests: a node:http server on loopback, started by the vitest global setup
// (test/gateway/global-setup.ts) and by the end-to-end test, both on an ephemeral loopback port.
//
// Every path is answered; the first path segment names the "endpoint" (e.g. /prod, /sandbox), so one server can
// stand for several backends. What it does:
//   any path                   echo: JSON {backend, method, path, query, headers, bodyBytes, bodySha256}
//   .../track/<id>             as echo, and records the bytes received so far under <id> while the body streams
//   /__progress/<id>           JSON {seen, bytes, done} of a tracked upload (read directly by the tests, not via gateway)
//   .../download/<bytes>       streams <bytes> bytes of a fixed pattern (sha256 in header x-body-sha256)
//   .../hold/<id>              writes "first\n", then waits for /__release/<id> before writing "second\n"
//   /__release/<id>            releases a held response
//   .../status/<code>          answers <code> with header x-backend-status and a small body (and Location: the
//                              `location` query parameter, if given)
//   .../slow                   answers after 20 s (for timeouts)
//   .../cors                   as echo, with CORS headers of its own (ACAO *, credentials, Vary: Accept-Encoding)
//   .../count/<id>[?delay=ms]  as echo after `delay` ms, counting the calls under <id> and how many were in flight at once
//   /__count/<id>              JSON {calls, inFlight, maxInFlight, throttled} of a counted id (read directly by the tests)
import { createHash } from "node:crypto";
import { createServer } from "node:http";

const PATTERN = Buffer.from("0123456789abcdefghijklmnopqrstuvwxyz-edge-key-manager-gateway\n");

/** `bytes` bytes of the repeating pattern, as a sequence of chunks of at most 64 KiB. */
export function* patternChunks(bytes) {
  let sent = 0;
  while (sent < bytes) {
    const size = Math.min(64 * 1024, bytes - sent);
    const phase = sent % PATTERN.length;
    const out = Buffer.alloc(size);
    for (let i = 0; i < size; i++) out[i] = PATTERN[(phase + i) % PATTERN.length];
    yield out;
    sent += size;
  }
}

export function patternSha256(bytes) {
  const hash = createHash("sha256");
  for (const chunk of patternChunks(bytes)) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * @param {{ port?: number, host?: string }} [options]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
export async function startBackend(options = {}) {
  const { port = 0, host = "127.0.0.1" } = options;
  const progress = new Map();
  const held = new Map();
  const counts = new Map();

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });

  async function handle(request, response) {
    const url = new URL(request.url ?? "/", `http://${host}`);
    const segments = url.pathname.split("/").filter(Boolean);

    if (segments[0] === "__progress") {
      const state = progress.get(segments[1]) ?? { seen: false, bytes: 0, done: false };
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(state));
      return;
    }
    if (segments[0] === "__release") {
      const release = held.get(segments[1]);
      if (release) release();
      held.delete(segments[1]);
      response.writeHead(release ? 200 : 404, { "content-type": "application/json" });
      response.end(JSON.stringify({ released: Boolean(release) }));
      return;
    }

    if (segments[0] === "__count") {
      const state = counts.get(segments[1]) ?? { calls: 0, inFlight: 0, maxInFlight: 0, throttled: 0 };
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(state));
      return;
    }

    const action = segments[1];
    if (action === "count") {
      const id = segments[2] ?? "";
      const state = counts.get(id) ?? { calls: 0, inFlight: 0, maxInFlight: 0, throttled: 0 };
      counts.set(id, state);
      state.calls += 1;
      if (request.headers["x-ekm-throttled"] === "true") state.throttled += 1;
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get("delay") ?? "0")));
      state.inFlight -= 1;
    }
    if (action === "download") {
      const bytes = Number(segments[2] ?? "0");
      response.writeHead(200, {
        "content-type": "application/octet-stream",
        "x-body-sha256": patternSha256(bytes),
      });
      for (const chunk of patternChunks(bytes)) {
        if (!response.write(chunk)) await new Promise((resolve) => response.once("drain", resolve));
      }
      response.end();
      return;
    }
    if (action === "hold") {
      const id = segments[2] ?? "";
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("first\n");
      await new Promise((resolve) => held.set(id, resolve));
      response.end("second\n");
      return;
    }
    if (action === "slow") {
      const timer = setTimeout(() => {
        response.writeHead(200, { "content-type": "text/plain" });
        response.end("late\n");
      }, 20_000);
      response.on("close", () => clearTimeout(timer));
      return;
    }

    // Echo (and tracked upload): read the body as it streams in.
    const trackId = action === "track" ? segments[2] : undefined;
    if (trackId) progress.set(trackId, { seen: true, bytes: 0, done: false });
    const hash = createHash("sha256");
    let bodyBytes = 0;
    for await (const chunk of request) {
      hash.update(chunk);
      bodyBytes += chunk.length;
      if (trackId) progress.set(trackId, { seen: true, bytes: bodyBytes, done: false });
    }
    if (trackId) progress.set(trackId, { seen: true, bytes: bodyBytes, done: true });

    const status = action === "status" ? Number(segments[2] ?? "200") : 200;
    response.writeHead(status, {
      "content-type": "application/json",
      "x-backend": segments[0] ?? "",
      ...(action === "status" ? { "x-backend-status": String(status) } : {}),
      ...(action === "status" && url.searchParams.has("location")
        ? { location: url.searchParams.get("location") }
        : {}),
      ...(action === "cors"
        ? {
            "access-control-allow-origin": "*",
            "access-control-allow-credentials": "true",
            "access-control-expose-headers": "x-secret",
            vary: "Accept-Encoding",
          }
        : {}),
    });
    response.end(
      JSON.stringify({
        backend: segments[0] ?? "",
        method: request.method,
        path: url.pathname,
        query: url.search,
        headers: request.headers,
        bodyBytes,
        bodySha256: hash.digest("hex"),
      }),
    );
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const boundPort = typeof address === "object" && address ? address.port : port;
  return {
    url: `http://${host}:${boundPort}`,
    port: boundPort,
    async close() {
      for (const release of held.values()) release();
      held.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
