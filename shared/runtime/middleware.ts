import type { MiddlewareObj } from '@middy/core';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { InvalidStepInput } from '../domain/errors';
import { describeIssues } from '../domain/zod-issues';
import { logger, logLevelFromEnv, upshiftMetrics } from './observability';
import { stepTracing } from './tracing';

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

/** The workflow an invocation works for, when its event names one (every step's input does). */
function workflowOf(event: unknown): string | undefined {
  if (!event || typeof event !== 'object') return undefined;
  const id = (event as Record<string, unknown>).workflowId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Powertools around one invocation: the X-Ray subsegment of the handler with the step and the
 * workflow id as annotations (Tracer, inside Lambda only: shared/runtime/tracing.ts), the Lambda
 * context and the workflow id on every log line (correlation across the steps of one upgrade),
 * the step's duration as a metric, and its start, end and failure logged. `onResult` emits the
 * step's own metrics from what it returned.
 */
export function stepObservability<R = unknown>(
  step: string,
  options: { onResult?: (event: unknown, result: R) => void } = {},
): MiddlewareObj<unknown, R> {
  let started = 0;
  const tracing = stepTracing(step);
  const finish = (ms: number) => {
    upshiftMetrics.stepDuration(step, ms);
    logger.removeKeys(['workflowId']);
  };
  return {
    before: async (request) => {
      await tracing.before?.(request);
      started = Date.now();
      logger.setLogLevel(logLevelFromEnv());
      if (isLambdaContext(request.context)) logger.addContext(request.context);
      logger.appendKeys({ step });
      const workflowId = workflowOf(request.event);
      if (workflowId) {
        logger.appendKeys({ workflowId });
      }
      logger.debug('step started');
    },
    after: async (request) => {
      const ms = Date.now() - started;
      logger.info('step ended', { ms });
      options.onResult?.(request.event, request.response as R);
      finish(ms);
      await tracing.after?.(request as never);
    },
    onError: async (request) => {
      const ms = Date.now() - started;
      const error = request.error as Error | null;
      logger.error('step failed', { error: error?.name, message: error?.message, ms });
      finish(ms);
      await tracing.onError?.(request as never);
    },
  };
}

/** The same middleware for handlers that are not steps (the reconciler, the approval reminders). */
export function stepLogging(step: string): MiddlewareObj<unknown> {
  return stepObservability(step) as MiddlewareObj<unknown>;
}

function isLambdaContext(context: unknown): context is Context {
  return !!context && typeof context === 'object' && 'awsRequestId' in context && 'functionName' in context;
}

/**
 * A step's Lambda handler: traces, logs and metrics (Powertools), then zod validation of the input, then the use case. Every
 * step handler is built this way, so the middleware chain is defined once.
 */
export function stepHandler<S extends z.ZodType, R>(
  step: string,
  schema: S,
  useCase: (input: z.infer<S>) => Promise<R>,
  options: { onResult?: (input: z.infer<S>, result: R) => void } = {},
) {
  return middy()
    .use(stepObservability<R>(step, options as { onResult?: (event: unknown, result: R) => void }))
    .use(zodInput(step, schema))
    .handler((event) => useCase(event as z.infer<S>));
}
