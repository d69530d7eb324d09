/** Types of ./jwks-server.mjs (plain JavaScript: it runs in Node for the vitest global setup). */
export function startJwksServer(): Promise<{ url: string; close: () => Promise<void> }>;
