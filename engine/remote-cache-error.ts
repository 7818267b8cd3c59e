/**
 * Why a remote cache operation failed, so callers can word the warning (and tests can tell causes
 * apart) without parsing messages. Every failure of a remote is a miss for the engine, never a
 * failed run; the reason only decides what the warning says.
 */
export type RemoteCacheErrorReason =
  /** The record or blob is not there. */
  | "absent"
  /** No answer within the request timeout. */
  | "timeout"
  /** Could not connect (refused, unknown host, connection reset, missing directory). */
  | "unreachable"
  /** The server refused these credentials, or there are none for a write. */
  | "denied"
  /** The server answered 5xx (after the SDK's retries). */
  | "server-error"
  /** A write to a remote opened read-only. */
  | "read-only"
  /** A name or content that cannot be stored or was stored wrong: bad digest, bad key, bad JSON. */
  | "invalid"
  /** Anything else the server or file system said; the message carries it. */
  | "failed";

export class RemoteCacheError extends Error {
  constructor(
    readonly reason: RemoteCacheErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RemoteCacheError";
  }
}
