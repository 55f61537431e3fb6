/**
 * The one error type the domain throws. The HTTP layer turns it into
 * `{"error":{"code","message"}}` with `status`; anything else is a bug and answers 500.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "AppError";
  }
}

const NOT_FOUND_MESSAGE = "Nothing was found at this address.";
export const notFound = () => new AppError("not_found", 404, NOT_FOUND_MESSAGE);
export const gone = () => new AppError("gone", 410, "This image was deleted.");
/** An upload or a batch whose account was deleted while it arrived: nothing of it is kept. */
export const accountGone = () => new AppError("account_gone", 401, "The account this was sent for was deleted meanwhile; nothing was kept.");
