import pino from 'pino';
import type { Logger } from 'pino';
import { SECRET_VARIABLES, mask } from './config.js';

/**
 * One logger per process. Secrets are redacted wherever they might appear: by key name
 * (tokens, keys, passwords, authorization headers) and by the configured values themselves.
 */
export function createLogger(
  options: {
    level?: string;
    destination?: 1 | 2;
    stream?: NodeJS.WritableStream;
    secrets?: string[];
  } = {},
): Logger {
  const secrets = (options.secrets ?? []).filter((value) => value.length >= 6);
  const keys = [
    'authorization',
    'token',
    'apiKey',
    'api_key',
    'password',
    'secret',
    'signingSecret',
    ...SECRET_VARIABLES,
  ];
  return pino(
    {
      level: options.level ?? 'info',
      redact: {
        paths: [
          ...keys,
          ...keys.map((key) => `*.${key}`),
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
      hooks: {
        // Values that slipped into messages (an error text quoting a URL with a password) are masked too.
        logMethod(args, method) {
          if (secrets.length > 0) {
            args = args.map((arg) =>
              typeof arg === 'string' ? mask(arg, secrets) : arg,
            ) as typeof args;
          }
          method.apply(this, args);
        },
      },
    },
    options.stream ?? pino.destination({ dest: options.destination ?? 2, sync: true }),
  );
}
