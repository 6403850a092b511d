import type { Clock, EvidenceStore } from '../ports';
import { type AwsEnv, awsEnvSchema, parseEnv } from '../runtime/config';
import { systemClock, timeOrderedIds } from '../runtime/system';
import { traceClient } from '../runtime/tracing';
import type { HttpProberOptions } from './http-prober';

/**
 * How the SDK clients are made. On AWS every client takes the Lambda environment's defaults; the
 * local twin passes its own options so the same adapters reach its emulators (the transport) on
 * its virtual clock. Nothing else differs.
 */
export interface AwsPortOptions {
  /** Extra configuration for every client (region, credentials, endpoint). */
  clientConfig?: Record<string, unknown>;
  /** Called with each client once it is made (the twin adds its transport middleware here). */
  decorate?: <C extends { middlewareStack: unknown }>(client: C) => C;
  clock?: Clock;
  /** The HTTP prober's transport and listener addresses (the twin routes them to its services). */
  http?: Pick<HttpProberOptions, 'fetch' | 'listenerUrl'>;
  /** Where raw verification evidence goes when no bucket is configured (the twin's state folder). */
  evidence?: EvidenceStore;
}

/** An SDK client class: every v3 client takes one configuration object. */
export type ClientClass<C> = new (config: Record<string, unknown>) => C;

/**
 * What every port needs and no SDK client: the parsed configuration, the clock, ids, and the one
 * way to make a client (`client(Make)`), which applies the options' configuration and decoration.
 * It imports no SDK package; each `*-clients.ts` module adds the ports of one service, so a
 * handler bundles only the clients it uses.
 */
export interface AwsBase {
  readonly config: AwsEnv;
  readonly clock: Clock;
  readonly ids: ReturnType<typeof timeOrderedIds>;
  readonly env: NodeJS.ProcessEnv;
  readonly options: AwsPortOptions;
  /** A client with the options' configuration; `config` overrides it (a target's region and credentials). */
  client<C extends { middlewareStack: unknown }>(Make: ClientClass<C>, config?: Record<string, unknown>): C;
}

export function awsBase(env: NodeJS.ProcessEnv = process.env, options: AwsPortOptions = {}): AwsBase {
  const config = parseEnv(awsEnvSchema, env);
  const clock = options.clock ?? systemClock;
  return {
    config,
    clock,
    ids: timeOrderedIds(clock),
    env,
    options,
    client: (Make, config) => {
      // X-Ray subsegments per call inside Lambda (shared/runtime/tracing.ts); unchanged elsewhere.
      const made = traceClient(new Make({ ...options.clientConfig, ...config }));
      return options.decorate ? options.decorate(made) : made;
    },
  };
}

/** A value made on first use and kept: one SDK client per service per execution environment. */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/**
 * The base with the ports of the given services, e.g. `withClients(awsBase(), dynamoPorts,
 * eventPorts)` for a handler that reads the table and publishes events.
 */
export function withClients<F extends ((base: AwsBase) => object)[]>(
  base: AwsBase,
  ...factories: F
): AwsBase & UnionToIntersection<ReturnType<F[number]>> {
  return Object.assign({}, base, ...factories.map((make) => make(base)));
}
