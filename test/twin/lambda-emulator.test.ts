import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  LambdaClient,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import {
  type FunctionCode,
  functionCodeFromCatalog,
  LambdaEmulator,
  liveTrafficFromCatalog,
} from '../../local/emulators/lambda';
import type { Caller, MetricQuery, TwinClock } from '../../local/twin/contracts';
import { LambdaProber } from '../../shared/aws/lambda-prober';
import { type Component, componentSchema } from '../../shared/domain/catalog';
import type { ProbeTarget } from '../../shared/ports';

/** A clock that moves only when told to; `at` callbacks run on `advance`. */
class FakeClock implements TwinClock {
  private queue: { atMs: number; fn: () => void | Promise<void> }[] = [];
  constructor(private ms = Date.UTC(2026, 10, 2, 10, 0, 0)) {}
  now(): Date {
    return new Date(this.ms);
  }
  at(atMs: number, fn: () => void | Promise<void>): void {
    this.queue.push({ atMs, fn });
  }
  async advance(byMs: number): Promise<void> {
    this.ms += byMs;
    const due = this.queue.filter((q) => q.atMs <= this.ms);
    this.queue = this.queue.filter((q) => q.atMs > this.ms);
    for (const q of due) await q.fn();
  }
}

const caller: Caller = { roleArn: 'arn:aws:iam::000000000000:role/test', name: 'test' };
const MINUTE = 60_000;

function profiles(local: Record<string, unknown>): Component {
  return componentSchema.parse({
    target: { type: 'lambda', functionName: 'checkout' },
    environments: {
      prod: {
        baseline: {
          version: '1.0.0',
          artifact: { type: 'lambda', functionName: 'checkout', functionVersion: '1' },
        },
      },
    },
    local,
  });
}

/** checkout: version 1 runs 1.0.0 (healthy), version 2 runs 1.1.0 (every live request fails). */
function checkoutEmulator(options: { rpm?: number; probeErrorRate?: number; errorRate?: number } = {}) {
  const clock = new FakeClock();
  const lambda = new LambdaEmulator({ clock });
  const component = profiles({
    requestsPerMinute: options.rpm ?? 600,
    defaultProfile: { errorRate: 0, latencyMs: 40 },
    versions: {
      '1.1.0': {
        errorRate: options.errorRate ?? 1,
        ...(options.probeErrorRate !== undefined ? { probeErrorRate: options.probeErrorRate } : {}),
        latencyMs: 200,
      },
    },
  });
  lambda.defineFunction('checkout', {
    code: functionCodeFromCatalog('checkout', component),
    liveTraffic: liveTrafficFromCatalog('checkout', component),
  });
  lambda.publishVersion('checkout', '1.0.0');
  lambda.publishVersion('checkout', '1.1.0');
  lambda.createAlias('checkout', 'live', '1');
  return { clock, lambda };
}

function invokeInput(payload: unknown, extra: Record<string, unknown> = {}) {
  return {
    FunctionName: 'checkout',
    Payload: new TextEncoder().encode(JSON.stringify(payload)),
    ...extra,
  };
}

function decode(payload: unknown): unknown {
  return JSON.parse(new TextDecoder().decode(payload as Uint8Array));
}

function lambdaQuery(metricName: string, stat: string, startMs: number, periodMs = MINUTE): MetricQuery {
  return {
    namespace: 'AWS/Lambda',
    metricName,
    dimensions: { FunctionName: 'checkout', Resource: 'checkout:live' },
    stat,
    startMs,
    periodMs,
  };
}

/** A real SDK client whose transport answers from the emulator (the twin's seam). */
function clientFor(lambda: LambdaEmulator): LambdaClient {
  const client = new LambdaClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' },
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const output = await lambda.handle(
        context.commandName ?? '',
        args.input as Record<string, unknown>,
        caller,
      );
      return { output: { $metadata: {}, ...output } as never, response: {} };
    },
    { step: 'initialize', name: 'twinTransport' },
  );
  return client;
}

describe('LambdaEmulator Invoke', () => {
  it('invokes a published version and reports it as ExecutedVersion', async () => {
    // Prepare
    const { lambda } = checkoutEmulator();

    // Act
    const out = await lambda.handle('Invoke', invokeInput({ hello: 1 }, { Qualifier: '1' }), caller);

    // Assess
    expect(out.StatusCode).toBe(200);
    expect(out.ExecutedVersion).toBe('1');
    expect(out.FunctionError).toBeUndefined();
    expect(decode(out.Payload)).toEqual({ status: 'ok', component: 'checkout', version: '1.0.0' });
  });

  it('accepts a full ARN with the qualifier in it, and $LATEST runs the last published code', async () => {
    // Prepare
    const { lambda } = checkoutEmulator({ errorRate: 0 });

    // Act
    const byArn = await lambda.handle(
      'InvokeCommand',
      { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:checkout:1' },
      caller,
    );
    const latest = await lambda.handle('Invoke', { FunctionName: '000000000000:function:checkout' }, caller);

    // Assess
    expect(byArn.ExecutedVersion).toBe('1');
    expect(latest.ExecutedVersion).toBe('$LATEST');
    expect(decode(latest.Payload)).toMatchObject({ version: '1.1.0' });
  });

  it('routes an alias by its weights, request by request, and says which version ran', async () => {
    // Prepare
    const { lambda } = checkoutEmulator({ errorRate: 0 });
    lambda.routeAlias('checkout', 'live', '1', { version: '2', weight: 0.3 });
    const executed: unknown[] = [];

    // Act
    for (let i = 0; i < 2000; i++) {
      const out = await lambda.handle('Invoke', invokeInput({}, { Qualifier: 'live' }), caller);
      executed.push(out.ExecutedVersion);
    }

    // Assess
    const share = executed.filter((v) => v === '2').length / executed.length;
    expect(share).toBeGreaterThan(0.27);
    expect(share).toBeLessThan(0.33);
    expect(new Set(executed)).toEqual(new Set(['1', '2']));
  });

  it('fails an unknown version with the SDK ResourceNotFoundException and AWS wording', async () => {
    // Prepare
    const { lambda } = checkoutEmulator();

    // Act
    const result = lambda.handle('Invoke', invokeInput({}, { Qualifier: '9' }), caller);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(result).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:checkout:9',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('fails an unknown function and an unknown alias as ResourceNotFoundException', async () => {
    // Prepare
    const { lambda } = checkoutEmulator();

    // Act
    const noFunction = lambda.handle('Invoke', { FunctionName: 'nope' }, caller);
    const noAlias = lambda.handle('Invoke', { FunctionName: 'checkout:canary' }, caller);

    // Assess
    await expect(noFunction).rejects.toThrow(
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
    );
    await expect(noAlias).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('rejects a payload that is not JSON with InvalidRequestContentException', async () => {
    // Prepare
    const { lambda } = checkoutEmulator();

    // Act
    const result = lambda.handle(
      'Invoke',
      { FunctionName: 'checkout', Qualifier: '1', Payload: new TextEncoder().encode('{not json') },
      caller,
    );

    // Assess
    await expect(result).rejects.toBeInstanceOf(InvalidRequestContentException);
    await expect(result).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it('rejects a qualifier in the name that differs from Qualifier', async () => {
    // Prepare
    const { lambda } = checkoutEmulator();

    // Act
    const result = lambda.handle('Invoke', { FunctionName: 'checkout:1', Qualifier: '2' }, caller);

    // Assess
    await expect(result).rejects.toBeInstanceOf(InvalidParameterValueException);
  });

  it('rejects a payload over 6 MB with a 413', async () => {
    // Prepare
    const { lambda } = checkoutEmulator();
    const big = new Uint8Array(6 * 1024 * 1024 + 1).fill(0x20);

    // Act
    const result = lambda.handle('Invoke', { FunctionName: 'checkout', Payload: big }, caller);

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'RequestTooLargeException',
      $metadata: { httpStatusCode: 413 },
    });
  });

  it('throttles while asked to, with TooManyRequestsException (429)', async () => {
    // Prepare
    const { lambda } = checkoutEmulator();
    lambda.throttle('checkout', true);

    // Act
    const throttled = lambda.handle('Invoke', invokeInput({}, { Qualifier: '1' }), caller);

    // Assess
    await expect(throttled).rejects.toBeInstanceOf(TooManyRequestsException);
    await expect(throttled).rejects.toMatchObject({ $metadata: { httpStatusCode: 429 } });
    lambda.throttle('checkout', false);
    await expect(lambda.handle('Invoke', invokeInput({}, { Qualifier: '1' }), caller)).resolves.toMatchObject(
      {
        StatusCode: 200,
      },
    );
  });

  it('answers Event with 202 and runs the code later, DryRun with 204 without running it', async () => {
    // Prepare
    const clock = new FakeClock();
    const lambda = new LambdaEmulator({ clock });
    const seen: unknown[] = [];
    const code: FunctionCode = {
      invoke: (payload) => {
        seen.push(payload);
        return { payload: 'done', durationMs: 1 };
      },
    };
    lambda.defineFunction('worker', { code: () => code });

    // Act
    const event = await lambda.handle(
      'Invoke',
      { FunctionName: 'worker', InvocationType: 'Event', Payload: '{"a":1}' },
      caller,
    );
    const dry = await lambda.handle('Invoke', { FunctionName: 'worker', InvocationType: 'DryRun' }, caller);
    const before = seen.length;
    await clock.advance(1);

    // Assess
    expect(event.StatusCode).toBe(202);
    expect(dry.StatusCode).toBe(204);
    expect(before).toBe(0);
    expect(seen).toEqual([{ a: 1 }]);
  });

  it('turns a thrown error into an Unhandled function error with a Lambda error payload', async () => {
    // Prepare
    const lambda = new LambdaEmulator({ clock: new FakeClock() });
    lambda.defineFunction('step', {
      code: () => ({
        invoke: async () => {
          throw new RangeError('boom');
        },
      }),
    });

    // Act
    const out = await lambda.handle('Invoke', { FunctionName: 'step' }, caller);

    // Assess
    expect(out.FunctionError).toBe('Unhandled');
    expect(decode(out.Payload)).toMatchObject({ errorType: 'RangeError', errorMessage: 'boom' });
  });
});

describe('LambdaEmulator authorizations', () => {
  it('checks lambda:InvokeFunction on the qualified ARN for a qualified Invoke', () => {
    // Prepare
    const { lambda } = checkoutEmulator();

    // Act
    const qualified = lambda.authorizations('Invoke', { FunctionName: 'checkout', Qualifier: '7' });
    const inName = lambda.authorizations('Invoke', { FunctionName: 'checkout:live' });
    const unqualified = lambda.authorizations('Invoke', { FunctionName: 'checkout' });
    const alias = lambda.authorizations('UpdateAlias', { FunctionName: 'checkout', Name: 'live' });

    // Assess
    expect(qualified).toEqual([
      {
        action: 'lambda:InvokeFunction',
        resource: 'arn:aws:lambda:us-east-1:000000000000:function:checkout:7',
      },
    ]);
    expect(inName[0]?.resource).toBe('arn:aws:lambda:us-east-1:000000000000:function:checkout:live');
    expect(unqualified[0]?.resource).toBe('arn:aws:lambda:us-east-1:000000000000:function:checkout');
    expect(alias).toEqual([
      { action: 'lambda:UpdateAlias', resource: 'arn:aws:lambda:us-east-1:000000000000:function:checkout' },
    ]);
  });
});

describe('LambdaEmulator demo targets', () => {
  it('fails probes at probeErrorRate and live traffic at errorRate', async () => {
    // Prepare
    const { lambda, clock } = checkoutEmulator({ errorRate: 0.5, probeErrorRate: 0, rpm: 1000 });
    lambda.routeAlias('checkout', 'live', '2');
    let probeFailures = 0;

    // Act
    for (let i = 0; i < 200; i++) {
      const out = await lambda.handle('Invoke', invokeInput({}, { Qualifier: '2' }), caller);
      if (out.FunctionError) probeFailures++;
    }
    const errors = lambda.datapoint(lambdaQuery('Errors', 'Average', clock.now().getTime()));

    // Assess
    expect(probeFailures).toBe(0);
    expect(errors).toBeGreaterThan(0.4);
    expect(errors).toBeLessThan(0.6);
  });

  it('runs the demo service: 2.2.0 fails carts of more than 3 lines, 2.1.0 prices them', async () => {
    // Prepare
    const component = componentSchema.parse({
      target: { type: 'lambda', functionName: 'pricing' },
      environments: {
        prod: {
          baseline: {
            version: '2.1.0',
            artifact: { type: 'lambda', functionName: 'pricing', functionVersion: '1' },
          },
        },
      },
      local: { kind: 'demo-service' },
    });
    const lambda = new LambdaEmulator({ clock: new FakeClock() });
    lambda.defineFunction('pricing', { code: functionCodeFromCatalog('pricing', component) });
    lambda.publishVersionAs('pricing', 1, '2.1.0');
    lambda.publishVersionAs('pricing', 2, '2.2.0');
    const cart = (lines: number) => ({
      currency: 'EUR',
      items: Array.from({ length: lines }, (_, i) => ({ sku: `s${i}`, unitPrice: 10, quantity: 1 })),
    });

    // Act
    const small = await lambda.handle(
      'Invoke',
      { FunctionName: 'pricing:2', Payload: JSON.stringify(cart(3)) },
      caller,
    );
    const big = await lambda.handle(
      'Invoke',
      { FunctionName: 'pricing:2', Payload: JSON.stringify(cart(4)) },
      caller,
    );
    const old = await lambda.handle(
      'Invoke',
      { FunctionName: 'pricing:1', Payload: JSON.stringify(cart(4)) },
      caller,
    );

    // Assess
    expect(small.FunctionError).toBeUndefined();
    expect(decode(small.Payload)).toMatchObject({ subtotal: 30, discount: 1.2, total: 28.8 });
    expect(big.FunctionError).toBe('Unhandled');
    expect(decode(big.Payload)).toMatchObject({ errorType: 'TypeError' });
    expect(old.FunctionError).toBeUndefined();
  });

  it('publishes a version number again only with the same code', () => {
    // Prepare
    const { lambda } = checkoutEmulator();

    // Act
    const again = lambda.publishVersionAs('checkout', 2, '1.1.0');

    // Assess
    expect(again).toBe('2');
    expect(() => lambda.publishVersionAs('checkout', 2, '9.9.9')).toThrow(/already published/);
    expect(lambda.publishVersion('checkout', '1.2.0')).toBe('3');
  });
});

describe('LambdaEmulator metrics', () => {
  it('gives exact Errors and Invocations for a period with 10% routed to a bad version', () => {
    // Prepare
    const { lambda, clock } = checkoutEmulator({ rpm: 600 });
    lambda.routeAlias('checkout', 'live', '1', { version: '2', weight: 0.1 });
    const start = clock.now().getTime();

    // Act
    const invocations = lambda.datapoint(lambdaQuery('Invocations', 'Sum', start));
    const errors = lambda.datapoint(lambdaQuery('Errors', 'Sum', start));
    const functionOnly = lambda.datapoint({
      ...lambdaQuery('Errors', 'Sum', start),
      dimensions: { FunctionName: 'checkout' },
    });

    // Assess
    expect(invocations).toBe(600);
    expect(errors).toBe(60);
    expect(functionOnly).toBe(60);
  });

  it('gives identical datapoints for two periods with the same routing', () => {
    // Prepare
    const { lambda, clock } = checkoutEmulator({ rpm: 300, errorRate: 0.2 });
    lambda.routeAlias('checkout', 'live', '1', { version: '2', weight: 0.25 });
    const start = clock.now().getTime();
    const stats = (at: number) => [
      lambda.datapoint(lambdaQuery('Errors', 'Sum', at)),
      lambda.datapoint(lambdaQuery('Duration', 'p99', at)),
      lambda.datapoint(lambdaQuery('Duration', 'Average', at)),
      lambda.datapoint(lambdaQuery('Invocations', 'SampleCount', at)),
    ];

    // Act
    const first = stats(start);
    const second = stats(start + 7 * MINUTE);

    // Assess
    expect(first.every((v) => typeof v === 'number')).toBe(true);
    expect(second).toEqual(first);
  });

  it('uses the routing in force at the period start, and has no data before the alias existed', async () => {
    // Prepare
    const { lambda, clock } = checkoutEmulator({ rpm: 600 });
    const created = clock.now().getTime();
    await clock.advance(MINUTE);

    // Act
    lambda.routeAlias('checkout', 'live', '2');
    const beforeAlias = lambda.datapoint(lambdaQuery('Errors', 'Sum', created - MINUTE));
    const onVersion1 = lambda.datapoint(lambdaQuery('Errors', 'Sum', created));
    const onVersion2 = lambda.datapoint(lambdaQuery('Errors', 'Sum', created + MINUTE));

    // Assess
    expect(beforeAlias).toBeUndefined();
    expect(onVersion1).toBe(0);
    expect(onVersion2).toBe(600);
  });

  it('has no data for a function without live traffic', () => {
    // Prepare
    const lambda = new LambdaEmulator({ clock: new FakeClock() });
    lambda.defineFunction('quiet', { code: () => ({ invoke: () => ({ durationMs: 1 }) }) });
    lambda.publishVersion('quiet', 'a');
    lambda.createAlias('quiet', 'live', '1');

    // Act
    const value = lambda.datapoint({
      namespace: 'AWS/Lambda',
      metricName: 'Invocations',
      dimensions: { FunctionName: 'quiet', Resource: 'quiet:live' },
      stat: 'Sum',
      startMs: 0,
      periodMs: MINUTE,
    });

    // Assess
    expect(value).toBeUndefined();
  });

  it('tells onChange listeners when an alias is routed', () => {
    // Prepare
    const { lambda, clock } = checkoutEmulator();
    const changes: unknown[] = [];
    lambda.onChange((c) => changes.push(c));

    // Act
    lambda.routeAlias('checkout', 'live', '1', { version: '2', weight: 0.1 });

    // Assess
    expect(changes).toContainEqual({
      namespace: 'AWS/Lambda',
      dimensions: { FunctionName: 'checkout', Resource: 'checkout:live' },
      atMs: clock.now().getTime(),
    });
  });
});

describe('LambdaEmulator alias commands and state', () => {
  it('UpdateAlias with AdditionalVersionWeights shows in GetAlias and in aliasVersion', async () => {
    // Prepare
    const { lambda } = checkoutEmulator();
    const before = await lambda.handle('GetAlias', { FunctionName: 'checkout', Name: 'live' }, caller);

    // Act
    await lambda.handle(
      'UpdateAlias',
      {
        FunctionName: 'checkout',
        Name: 'live',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.2 } },
        RevisionId: before.RevisionId,
      },
      caller,
    );
    const after = await lambda.handle('GetAlias', { FunctionName: 'checkout', Name: 'live' }, caller);
    const stale = lambda.handle(
      'UpdateAlias',
      { FunctionName: 'checkout', Name: 'live', FunctionVersion: '2', RevisionId: before.RevisionId },
      caller,
    );

    // Assess
    expect(after).toMatchObject({
      AliasArn: 'arn:aws:lambda:us-east-1:000000000000:function:checkout:live',
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.2 } },
    });
    expect(after.RevisionId).not.toBe(before.RevisionId);
    expect(lambda.aliasVersion('checkout', 'live')).toBe('1');
    await expect(stale).rejects.toMatchObject({ name: 'PreconditionFailedException' });
  });

  it('keeps versions, aliases and routing history through snapshot and restore', () => {
    // Prepare
    const { lambda, clock } = checkoutEmulator({ rpm: 600 });
    lambda.routeAlias('checkout', 'live', '1', { version: '2', weight: 0.1 });
    const kept = JSON.parse(JSON.stringify(lambda.snapshot()));
    const fresh = new LambdaEmulator({ clock });
    const component = profiles({
      requestsPerMinute: 600,
      versions: { '1.1.0': { errorRate: 1, latencyMs: 200 } },
    });

    // Act
    fresh.restore(kept);
    fresh.defineFunction('checkout', {
      code: functionCodeFromCatalog('checkout', component),
      liveTraffic: liveTrafficFromCatalog('checkout', component),
    });

    // Assess
    expect(fresh.hasVersion('checkout', '2')).toBe(true);
    expect(fresh.aliasVersion('checkout', 'live')).toBe('1');
    expect(fresh.datapoint(lambdaQuery('Errors', 'Sum', clock.now().getTime()))).toBe(60);
    expect(fresh.snapshot()).toEqual(kept);
  });

  it('serves the real LambdaProber through an SDK client', async () => {
    // Prepare
    const { lambda } = checkoutEmulator({ errorRate: 1 });
    const prober = new LambdaProber(clientFor(lambda), () => 0);
    const target = {
      component: 'checkout',
      environment: 'prod',
      target: { type: 'lambda', functionName: 'checkout', alias: 'live' },
      version: '1.1.0',
      artifact: { type: 'lambda', functionName: 'checkout', functionVersion: '2' },
    } as ProbeTarget;

    // Act
    const good = await prober.run(
      { ...target, artifact: { ...target.artifact, functionVersion: '1' } as never },
      [{ name: 'p', payload: {} }],
      3,
    );
    const bad = await prober.run(target, [{ name: 'p', payload: {} }], 3);
    const missing = await prober.run(
      { ...target, artifact: { ...target.artifact, functionVersion: '9' } as never },
      [{ name: 'p', payload: {} }],
      1,
    );

    // Assess
    expect(good.every((s) => s.ok)).toBe(true);
    expect(good[0]?.fields).toEqual(['status', 'component', 'version']);
    expect(bad.every((s) => !s.ok && s.error?.startsWith('Unhandled'))).toBe(true);
    expect(missing[0]?.error).toBe(
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:checkout:9',
    );
  });
});
