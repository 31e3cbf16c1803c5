/**
 * The HTTP layer under the official Twilio SDK: one `RequestClient` subclass that
 *
 *   - points every Twilio domain the adapter calls (api, pricing) at a base URL when one is given
 *     (the SDK has no base-URL option; `TWILIO_BASE_URL` must be honoured exactly, plain http too),
 *   - retries under the shared rules of http-retry.ts: a 429 (Twilio error 20429, never processed)
 *     after its Retry-After, for every method; a 5xx or a timeout only for GET and DELETE. A POST
 *     (a purchase, a new subaccount) is never repeated after it may have reached Twilio,
 *   - turns network failures into a CoreError that carries no request config, so no Authorization
 *     header can leak through an error's `cause` into a log.
 *
 * The SDK's own retry loop (`autoRetry`) stays off: this is the only one.
 */
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { CoreError } from '../core/errors.js';
import type { ClassifiedFailure, RetryPolicy } from './http-retry.js';
import { retryAfterFromHeaders, withRetry } from './http-retry.js';

type RequestOptions<T> = RequestClient.RequestOptions<T>;
type SdkResponse<T> = Awaited<ReturnType<twilio.RequestClient['request']>> & { body: T };

export interface TwilioHttpOptions {
  /** Replaces scheme, host and port of every Twilio URL (a path prefix is kept in front). */
  baseUrl?: string;
  /** Overrides `baseUrl` for pricing.twilio.com only (tests serve each spec from its own mock). */
  pricingBaseUrl?: string;
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Injectable for tests that check the Retry-After wait without waiting. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** A response the layer may retry: kept whole so the SDK can still read Twilio's error body. */
class RetryableStatus extends Error {
  constructor(readonly response: SdkResponse<unknown>) {
    super(`HTTP ${response.statusCode}`);
  }
}

/** Network failures where the request certainly never reached Twilio. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_INVALID_URL']);
/** Network failures after which Twilio may or may not have acted. */
const MAYBE_SENT = new Set([
  'ECONNABORTED',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
  'ERR_BAD_RESPONSE',
]);

export class TwilioHttpClient extends twilio.RequestClient {
  private readonly options: TwilioHttpOptions;

  constructor(options: TwilioHttpOptions = {}) {
    // autoRetry off: the SDK would repeat a 429'd purchase on its own clock, without Retry-After.
    super({ timeout: options.timeoutMs ?? 30_000, autoRetry: false });
    this.options = options;
  }

  /** Where a Twilio URL really goes: the configured base URL, or unchanged. */
  target(uri: string): string {
    const url = new URL(uri);
    const isPricing = url.hostname.startsWith('pricing.');
    const base = (isPricing ? this.options.pricingBaseUrl : undefined) ?? this.options.baseUrl;
    if (!base || !url.hostname.endsWith('twilio.com')) return uri;
    const target = new URL(base);
    const prefix = target.pathname.replace(/\/+$/, '');
    return `${target.origin}${prefix}${url.pathname}${url.search}`;
  }

  override async request<T>(opts: RequestOptions<T>): Promise<SdkResponse<T>> {
    const method = String(opts.method).toLowerCase();
    const idempotent = method === 'get' || method === 'delete' || method === 'head';
    const uri = this.target(opts.uri);
    // Set once a DELETE attempt may have gone through: a 404 on its retry then means "done".
    let maybeDeleted = false;
    try {
      return await withRetry(
        async () => {
          const response = (await super.request({ ...opts, uri })) as SdkResponse<T>;
          if (response.statusCode === 429 || response.statusCode >= 500) {
            throw new RetryableStatus(response);
          }
          if (method === 'delete' && response.statusCode === 404 && maybeDeleted) {
            return { ...response, statusCode: 204 };
          }
          return response;
        },
        {
          idempotent,
          classify,
          ...(this.options.retry ? { policy: this.options.retry } : {}),
          ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
          onRetry: ({ failure }) => {
            if (failure.kind === 'transient') maybeDeleted = true;
          },
        },
      );
    } catch (error) {
      // Out of retries on a status: hand the answer to the SDK, which raises a RestException
      // with Twilio's own code and message for the adapter to translate.
      if (error instanceof RetryableStatus) return error.response as SdkResponse<T>;
      throw networkError(error, method);
    }
  }
}

function classify(error: unknown): ClassifiedFailure {
  if (error instanceof RetryableStatus) {
    const { statusCode, headers, body } = error.response;
    if (statusCode === 429 || vendorCodeOf(body) === 20429) {
      return { kind: 'unprocessed', retryAfterMs: retryAfterFromHeaders(headers as never) };
    }
    return { kind: 'transient' };
  }
  const code = errorCode(error);
  if (code && NOT_SENT.has(code)) return { kind: 'unprocessed' };
  if (code && MAYBE_SENT.has(code)) return { kind: 'transient' };
  return { kind: 'final' };
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function vendorCodeOf(body: unknown): number | undefined {
  if (body && typeof body === 'object' && typeof (body as { code?: unknown }).code === 'number') {
    return (body as { code: number }).code;
  }
  if (typeof body === 'string') {
    try {
      return vendorCodeOf(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * A failure with no HTTP answer. The axios error is not kept as `cause`: its config holds the
 * Authorization header. `notSent` tells the adapter whether Twilio certainly did nothing.
 */
export class TwilioNetworkError extends CoreError {
  readonly notSent: boolean;
  constructor(message: string, notSent: boolean, networkCode: string | undefined) {
    super('UNAVAILABLE', message, networkCode ? { details: { network: networkCode } } : {});
    this.notSent = notSent;
  }
}

function networkError(error: unknown, method: string): CoreError {
  if (error instanceof CoreError) return error;
  const code = errorCode(error);
  const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
  const what = timedOut ? 'no answer in time (timeout)' : `network error${code ? ` ${code}` : ''}`;
  const notSent = code !== undefined && NOT_SENT.has(code);
  return new TwilioNetworkError(`Twilio ${method.toUpperCase()}: ${what}`, notSent, code);
}
