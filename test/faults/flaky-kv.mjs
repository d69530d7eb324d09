// A KV namespace that fails on purpose: wraps a real one (INNER) and throws on writes of revocation markers
// (a `{"revokedAt":…}` written over a token's `token:*` entry) while the control key FAULT_KEY is set in it. Bound as VALIDATION_CACHE by
// vitest.faults.config.ts (a miniflare wrapped binding), so the Worker and its Durable Objects use it unchanged.
const FAULT_KEY = "fault:revocation-markers";

class FlakyKv {
  constructor(inner) {
    this.inner = inner;
  }
  async failing(key, value) {
    const marker = key.startsWith("token:") && String(value).includes('"revokedAt"');
    return marker && (await this.inner.get(FAULT_KEY)) !== null;
  }
  get(key, options) {
    return this.inner.get(key, options);
  }
  getWithMetadata(key, options) {
    return this.inner.getWithMetadata(key, options);
  }
  list(options) {
    return this.inner.list(options);
  }
  async put(key, value, options) {
    if (await this.failing(key, value)) throw new Error("KV PUT failed: 503 Service Unavailable (injected)");
    return this.inner.put(key, value, options);
  }
  async delete(key) {
    return this.inner.delete(key);
  }
}

export default function (env) {
  return new FlakyKv(env.INNER);
}
