import type { MiddlewareObj } from '@middy/core';
import middy from '@middy/core';
import type { z } from 'zod';
import { InvalidStepInput } from '../domain/errors';
import { describeIssues } from '../domain/zod-issues';
import { createLogger } from './logger';

/**
 * Validates the step's input with its zod schema before the use case runs, replacing the event
 * with the parsed (defaulted) value. A bad input fails with InvalidStepInput naming the fields.
 */
export function zodInput<S extends z.ZodType>(step: string, schema: S): MiddlewareObj<unknown> {
  return {
    before: (request) => {
      const result = schema.safeParse(request.event);
      if (!result.success) throw new InvalidStepInput(step, describeIssues(result.error));
      request.event = result.data;
    },
  };
}

/** Logs each invocation's start, end and failure with the step name and workflow id. */
export function stepLogging(step: string): MiddlewareObj<unknown> {
  const log = createLogger({ step });
  let started = 0;
  const workflowOf = (event: unknown) =>
    event && typeof event === 'object'
      ? ((event as Record<string, unknown>).workflowId as string | undefined)
      : undefined;
  return {
    before: (request) => {
      started = Date.now();
      log.debug('step started', { workflowId: workflowOf(request.event) });
    },
    after: (request) => {
      log.info('step ended', { workflowId: workflowOf(request.event), ms: Date.now() - started });
    },
    onError: (request) => {
      const error = request.error as Error | null;
      log.error('step failed', {
        workflowId: workflowOf(request.event),
        error: error?.name,
        message: error?.message,
        ms: Date.now() - started,
      });
    },
  };
}

/**
 * A step's Lambda handler: logging, then zod validation of the input, then the use case. Every
 * step handler is built this way, so the middleware chain is defined once.
 */
export function stepHandler<S extends z.ZodType, R>(
  step: string,
  schema: S,
  useCase: (input: z.infer<S>) => Promise<R>,
) {
  return middy()
    .use(stepLogging(step))
    .use(zodInput(step, schema))
    .handler((event) => useCase(event as z.infer<S>));
}
