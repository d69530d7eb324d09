import { NO_STORE } from "../core/responses";
import { signingKeysStub } from "../durable/names";
import { signerFor } from "../durable/signing/signer";
import { adminRouter } from "./admin-app";
import { listSigningKeys, rotateSigningKeys } from "./schemas/signing-keys";

/**
 * `/admin/signing-keys`: the signing keys as metadata (never key material), and their rotation. Other isolates
 * pick up the new active key when their lease ends (within a minute); this one at once.
 */
export const signingKeyRoutes = adminRouter()
  .openapi(listSigningKeys, async (c) => c.json({ keys: await signingKeysStub(c.env).list() }, 200, NO_STORE))
  .openapi(rotateSigningKeys, async (c) => {
    const keys = await signingKeysStub(c.env).rotate();
    signerFor(c.env, c.var.config).forget();
    return c.json({ keys }, 200, NO_STORE);
  });
