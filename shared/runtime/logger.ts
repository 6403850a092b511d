import { logger, logLevelFromEnv } from './observability';

/**
 * A logger bound to some fields, for code outside a step's middleware (the approvals API). It
 * writes through the function's one Powertools logger (shared/runtime/observability.ts), so its
 * lines carry the request id and keys the middleware appended, at UPSHIFT_LOG_LEVEL.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(base: Record<string, unknown> = {}): Logger {
  const write = (
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ) => {
    // The twin silences logs after some modules are imported: read the level at each line.
    logger.setLogLevel(logLevelFromEnv());
    logger[level](message, { ...base, ...fields });
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}
