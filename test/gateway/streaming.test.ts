import { describe, expect, it } from "vitest";
import { backend, callApi, echoOf, subscribedCaller } from "./gateway-helpers";

const MB = 1024 * 1024;

async function sha256Hex(chunks: Uint8Array[]): Promise<string> {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Deterministic pseudo-random bytes. */
function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

async function progress(id: string): Promise<{ seen: boolean; bytes: number; done: boolean }> {
  return (await (await fetch(`${backend()}/__progress/${id}`)).json()) as never;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe("gateway streaming", () => {
  it("forwards a large request body intact (8 MB)", async () => {
    const { accessToken, path } = await subscribedCaller();
    const chunks = Array.from({ length: 8 }, (_, i) => bytes(MB, i + 1));
    const body = new Blob(chunks);
    const echo = await echoOf(
      await callApi(`${path}/upload`, accessToken, {
        method: "PUT",
        headers: { "Content-Type": "application/octet-stream" },
        body,
      }),
    );
    expect(echo.bodyBytes).toBe(8 * MB);
    expect(echo.bodySha256).toBe(await sha256Hex(chunks));
  });

  it("streams a large response body through (8 MB)", async () => {
    const { accessToken, path } = await subscribedCaller();
    const response = await callApi(`${path}/download/${8 * MB}`, accessToken);
    expect(response.status).toBe(200);
    const chunks: Uint8Array[] = [];
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    expect(chunks.reduce((sum, chunk) => sum + chunk.length, 0)).toBe(8 * MB);
    expect(await sha256Hex(chunks)).toBe(response.headers.get("x-body-sha256"));
  });

  it("does not buffer the request: the backend gets the first part before the client sends the rest", async () => {
    const { accessToken, path } = await subscribedCaller();
    const id = `upload-${Date.now()}`;
    const first = bytes(256 * 1024, 7);
    const rest = bytes(256 * 1024, 8);
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const sent = callApi(`${path}/track/${id}`, accessToken, { method: "POST", body: readable });
    await writer.write(first);
    // A buffering gateway would wait for the end of the body, which only comes after the backend saw this part.
    await until(
      async () => (await progress(id)).bytes >= first.length,
      "the backend received the first part",
    );
    expect((await progress(id)).done).toBe(false);
    await writer.write(rest);
    await writer.close();
    const echo = await echoOf(await sent);
    expect(echo.bodyBytes).toBe(first.length + rest.length);
    expect(echo.bodySha256).toBe(await sha256Hex([first, rest]));
  });

  it("does not buffer the response: the client reads the first part before the backend sends the rest", async () => {
    const { accessToken, path } = await subscribedCaller();
    const id = `hold-${Date.now()}`;
    const response = await callApi(`${path}/hold/${id}`, accessToken);
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>)
      .pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    while (!text.includes("first\n")) {
      // A buffering gateway would never hand over this part: the backend holds the rest until released.
      const { done, value } = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("the first part never arrived: buffered")), 5000),
        ),
      ]);
      if (done) break;
      text += value;
    }
    expect(text).toBe("first\n");
    // Only now does the backend send the rest.
    expect(
      ((await (await fetch(`${backend()}/__release/${id}`)).json()) as { released: boolean }).released,
    ).toBe(true);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toBe("first\nsecond\n");
  });
});
