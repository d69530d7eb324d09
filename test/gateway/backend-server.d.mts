/** Types of ./backend-server.mjs (plain JavaScript so the node:test end-to-end suite can share it). */
export function patternChunks(bytes: number): Generator<Uint8Array>;
export function patternSha256(bytes: number): string;
export function startBackend(options?: {
  port?: number;
  host?: string;
}): Promise<{ url: string; port: number; close: () => Promise<void> }>;
