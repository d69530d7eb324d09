const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url (RFC 4648 §5) without padding: the only alphabet tokens, keys and secrets use. */
export function base64url(bytes: Uint8Array): string {
  // Table-driven: every token, hash and seal goes through here, and btoa plus three replacements cost more.
  let out = "";
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out +=
      ALPHABET.charAt(n >>> 18) +
      ALPHABET.charAt((n >>> 12) & 63) +
      ALPHABET.charAt((n >>> 6) & 63) +
      ALPHABET.charAt(n & 63);
  }
  if (bytes.length - whole === 1) {
    const n = (bytes[whole] as number) << 16;
    out += ALPHABET.charAt(n >>> 18) + ALPHABET.charAt((n >>> 12) & 63);
  } else if (bytes.length - whole === 2) {
    const n = ((bytes[whole] as number) << 16) | ((bytes[whole + 1] as number) << 8);
    out += ALPHABET.charAt(n >>> 18) + ALPHABET.charAt((n >>> 12) & 63) + ALPHABET.charAt((n >>> 6) & 63);
  }
  return out;
}

/** Standard base64 (RFC 4648 §4) to bytes; throws on anything `atob` refuses. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function fromBase64url(text: string): Uint8Array {
  const normal = text.replace(/-/g, "+").replace(/_/g, "/");
  return fromBase64(normal + "=".repeat((4 - (normal.length % 4)) % 4));
}

export const utf8 = new TextEncoder();
export const fromUtf8 = new TextDecoder();
/** Fatal: bytes that are not UTF-8 throw instead of being repaired. Shared, as it is never used streaming. */
export const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
