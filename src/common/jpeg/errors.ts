/** The JPEG is corrupt or truncated: its structure or entropy-coded data cannot be read. */
export class MalformedJpegError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedJpegError";
  }
}

/** A value the encoder cannot represent in baseline JPEG (only a corrupt source produces one). */
export class UnencodableJpegError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnencodableJpegError";
  }
}
