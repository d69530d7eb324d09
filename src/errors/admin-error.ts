/** An error of the admin API: `{"error": code, "message": ...}` with an HTTP status. */
export class AdminError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 409 | 413 | 415,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AdminError";
  }
}
