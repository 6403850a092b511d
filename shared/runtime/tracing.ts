import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import { SERVICE } from './metric-names';

/**
 * Powertools Tracer: the handler's subsegment (`## index.handler`, its response or error) and one
 * subsegment per AWS call, under the X-Ray segment Lambda opens for each invocation (the functions
 * run with active tracing). Tracing is on only inside Lambda (`AWS_EXECUTION_ENV` is set by the
 * runtime) and unless `POWERTOOLS_TRACE_ENABLED=false`. Everywhere else (the twin, the CLI, tests,
 * `npm start`) the tracer is never loaded: the X-Ray SDK it wraps is about 300 KB and prints
 * context warnings without a segment, so it is imported on first use, and only inside Lambda,
 * where the Powertools layer provides it (docs/decisions/0024-tracer-from-the-powertools-layer.md).
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.AWS_EXECUTION_ENV && (env.POWERTOOLS_TRACE_ENABLED ?? 'true').toLowerCase() !== 'false';
}

interface Tracing {
  tracer: Tracer;
  middleware: MiddlewareObj;
}

let loading: Promise<Tracing> | undefined;
let loaded: Tracing | undefined;

/** Loads the tracer once per execution environment (the first invocation, or at init in Lambda). */
function loadTracing(): Promise<Tracing> {
  loading ??= Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]).then(([{ Tracer }, { captureLambdaHandler }]) => {
    const tracer = new Tracer({ serviceName: SERVICE });
    loaded = { tracer, middleware: captureLambdaHandler(tracer) as MiddlewareObj };
    return loaded;
  });
  return loading;
}

// Inside Lambda the import starts during init, so the first invocation rarely waits for it.
if (tracingEnabled()) void loadTracing().catch(() => undefined);

/**
 * An SDK v3 client with X-Ray subsegments for its calls (Tracer.captureAWSv3Client), once the
 * tracer is loaded; the client unchanged otherwise. Clients are made on first use inside an
 * invocation, after `stepTracing` has loaded the tracer, so every client of a traced function is
 * traced. Called by the one place clients are made (`awsBase().client` in shared/aws/ports.ts).
 */
export function traceClient<C>(client: C): C {
  return loaded ? (loaded.tracer.captureAWSv3Client(client as never) as C) : client;
}

/**
 * The tracer's middy middleware (captureLambdaHandler) when tracing is enabled; nothing otherwise.
 * It annotates the invocation with the step and, when the event names one, the workflow id, so a
 * trace is found by workflow in the X-Ray console (`annotation.workflowId = "..."`).
 */
export function stepTracing(step: string): MiddlewareObj<unknown> {
  return {
    before: async (request) => {
      if (!tracingEnabled()) return;
      const { tracer, middleware } = await loadTracing();
      await middleware.before?.(request as never);
      tracer.putAnnotation('step', step);
      const workflowId = (request.event as { workflowId?: unknown } | null)?.workflowId;
      if (typeof workflowId === 'string') tracer.putAnnotation('workflowId', workflowId);
    },
    after: async (request) => {
      if (loaded && tracingEnabled()) await loaded.middleware.after?.(request as never);
    },
    onError: async (request) => {
      if (loaded && tracingEnabled()) await loaded.middleware.onError?.(request as never);
    },
  };
}
