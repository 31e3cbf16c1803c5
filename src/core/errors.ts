/**
 * The one error type of the core. Adapters translate vendor and database errors into it at their
 * edge; each front end has one table from `code` to its own answer (CLI exit code, Slack reply,
 * MCP `isError` text). Branch on `code`, never on `message`.
 */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'UPSTREAM',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface CoreErrorOptions {
  cause?: unknown;
  /** A vendor's own error code, kept for the user and the audit trail (never a secret). */
  vendorCode?: string;
  /** Extra facts a front end may show, e.g. `{ over: 3.5 }` for a budget refusal. */
  details?: Record<string, unknown>;
}

export class CoreError extends Error {
  readonly code: ErrorCode;
  readonly vendorCode: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: CoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CoreError';
    this.code = code;
    this.vendorCode = options.vendorCode;
    this.details = options.details;
  }
}

export function isCoreError(error: unknown): error is CoreError {
  return error instanceof CoreError;
}

/** Wraps anything thrown into a CoreError; unknown errors become INTERNAL with a generic text. */
export function asCoreError(error: unknown): CoreError {
  if (error instanceof CoreError) return error;
  return new CoreError('INTERNAL', 'Something went wrong inside Switchboard.', { cause: error });
}

/** Refusals are the user's to fix; failures are ours or a vendor's. The audit trail records which. */
export function isRefusal(code: ErrorCode): boolean {
  return (
    code === 'INVALID_INPUT' || code === 'FORBIDDEN' || code === 'NOT_FOUND' || code === 'CONFLICT'
  );
}
