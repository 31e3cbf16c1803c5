/**
 * Telnyx errors -> CoreError, in one table. A vendor error body never reaches the core: only its
 * first `detail`/`title` and its `code` (as `vendorCode`), and never the API key.
 */
import { APIConnectionError, APIError, APIUserAbortError } from 'telnyx';
import { CoreError, type ErrorCode } from '../core/errors.js';
import { joinSentences } from '../core/sentences.js';
import { retryAfterFromHeaders, type ClassifiedFailure } from './http-retry.js';

interface TelnyxErrorItem {
  code?: unknown;
  title?: unknown;
  detail?: unknown;
}

/** The first error item of a Telnyx error body (`{ errors: [{ code, title, detail }] }`). */
export function telnyxErrorItem(error: unknown): {
  code: string | undefined;
  text: string | undefined;
} {
  if (!(error instanceof APIError)) return { code: undefined, text: undefined };
  const body = error.error as { errors?: TelnyxErrorItem[] } | undefined;
  const item = Array.isArray(body?.errors) ? body.errors[0] : undefined;
  const code = item?.code === undefined || item.code === null ? undefined : String(item.code);
  const detail = typeof item?.detail === 'string' ? item.detail : undefined;
  const title = typeof item?.title === 'string' ? item.title : undefined;
  return { code, text: detail ?? title };
}

/**
 * How the retry loop should treat a failure. 429 was never processed (Telnyx code 10011);
 * 408/5xx and dropped connections may have been.
 */
export function classifyTelnyxFailure(error: unknown): ClassifiedFailure {
  if (error instanceof APIUserAbortError) return { kind: 'final' };
  if (error instanceof APIError && error.status !== undefined) {
    if (error.status === 429) {
      return { kind: 'unprocessed', retryAfterMs: retryAfterFromHeaders(error.headers) };
    }
    if (error.status === 408 || error.status >= 500) return { kind: 'transient' };
    return { kind: 'final' };
  }
  // APIConnectionError covers timeouts too. A refused connection never reached Telnyx.
  if (error instanceof APIConnectionError) {
    return /ECONNREFUSED/.test(
      String(error.cause) + String((error.cause as Error | undefined)?.cause),
    )
      ? { kind: 'unprocessed' }
      : { kind: 'transient' };
  }
  return { kind: 'final' };
}

/** Translates anything a Telnyx call threw. `what` names the operation for the user. */
export function toCoreError(error: unknown, what: string, apiKey: string): CoreError {
  if (error instanceof CoreError) return error;
  const scrub = (text: string) => (apiKey ? text.split(apiKey).join('[redacted]') : text);
  if (error instanceof APIError && error.status !== undefined) {
    const { code, text } = telnyxErrorItem(error);
    const status = error.status;
    const said = scrub(text ?? `HTTP ${status}`);
    let coreCode: ErrorCode;
    let message: string;
    if (status === 401 || status === 403) {
      coreCode = 'UPSTREAM';
      message = joinSentences(`Telnyx refused ${what}: ${said}`, 'Check TELNYX_API_KEY.');
    } else if (status === 404) {
      coreCode = 'NOT_FOUND';
      message = `Telnyx ${what}: ${said}`;
    } else if (status === 429) {
      coreCode = 'UNAVAILABLE';
      message = joinSentences(`Telnyx is rate limiting ${what}: ${said}`, 'Try again in a minute.');
    } else if (status >= 500 || status === 408) {
      coreCode = 'UNAVAILABLE';
      message = `Telnyx failed ${what} (HTTP ${status}): ${said}`;
    } else {
      coreCode = 'UPSTREAM';
      message = `Telnyx refused ${what}: ${said}`;
    }
    return new CoreError(coreCode, message, {
      cause: safeCause(error, scrub),
      ...(code === undefined ? {} : { vendorCode: code }),
      details: { status },
    });
  }
  if (error instanceof APIConnectionError) {
    const timedOut =
      /timed? ?out/i.test(error.message) || error.constructor.name.includes('Timeout');
    return new CoreError(
      'UNAVAILABLE',
      `Telnyx did not answer ${what} (${timedOut ? 'timeout' : 'connection failed'}).`,
      { cause: safeCause(error, scrub) },
    );
  }
  // A body that is not the JSON Telnyx documents: the request may have been acted on.
  return new CoreError('UNAVAILABLE', `Telnyx's answer to ${what} could not be read.`, {
    cause: safeCause(error, scrub),
  });
}

/** The SDK error without anything that could carry the key (request headers are never on it). */
function safeCause(error: unknown, scrub: (text: string) => string): Error {
  const name = error instanceof Error ? error.constructor.name : 'Error';
  const cause = new Error(scrub(error instanceof Error ? error.message : String(error)));
  cause.name = name;
  return cause;
}

/** A response that is missing what Telnyx documents: treated like an unreadable answer. */
export function malformed(what: string, why: string): CoreError {
  return new CoreError('UNAVAILABLE', `Telnyx's answer to ${what} could not be read (${why}).`);
}
