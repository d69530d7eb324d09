// The bench's local backend: the API a gateway call is forwarded to. Answers every request with a small JSON
// body over keep-alive. Usage: node bench/backend.mjs <port>
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 8902);
const body = JSON.stringify({ ok: true, service: "bench-backend" });
const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      // Lets the bench see what the gateway forwarded (e.g. that it dropped Authorization).
      "X-Saw-Authorization": request.headers.authorization ? "yes" : "no",
    });
    response.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => process.stdout.write(`backend listening on ${port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
