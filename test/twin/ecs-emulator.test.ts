import { ClientException, ECSClient, type RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { EcsEmulator, type FunctionCode } from '../../local/emulators/ecs';
import type { Caller, MetricQuery, TwinClock } from '../../local/twin/contracts';
import { EcsTaskDefinitions } from '../../shared/aws/ecs-task-definitions';

/** A clock that moves only when told to. */
class FakeClock implements TwinClock {
  constructor(public ms = Date.UTC(2026, 10, 2, 10, 0, 0)) {}
  now(): Date {
    return new Date(this.ms);
  }
  at(): void {}
}

const caller: Caller = { roleArn: 'arn:aws:iam::000000000000:role/deployer', name: 'Deploy' };
const MINUTE = 60_000;
const LB = 'app/web/0123456789abcdef';

const webDefinition: RegisterTaskDefinitionCommandInput = {
  family: 'web',
  containerDefinitions: [{ name: 'app', image: '000000000000.dkr.ecr.us-east-1.amazonaws.com/web:1.0.0' }],
  taskRoleArn: 'arn:aws:iam::000000000000:role/web-task',
  executionRoleArn: 'arn:aws:iam::000000000000:role/web-exec',
  tags: [{ key: 'team', value: 'shop' }],
};

/** A web service's code: version `bad` fails every request; latency 100 ms, or 400 ms when bad. */
const webCode = (label: string): FunctionCode => ({
  invoke: () =>
    label === 'bad'
      ? { functionError: 'Unhandled', durationMs: 400 }
      : { payload: { ok: true }, durationMs: 100 },
});

function albQuery(metricName: string, stat: string, startMs: number): MetricQuery {
  return {
    namespace: 'AWS/ApplicationELB',
    metricName,
    dimensions: { LoadBalancer: LB },
    stat,
    startMs,
    periodMs: MINUTE,
  };
}

function serviceEmulator() {
  const clock = new FakeClock();
  const ecs = new EcsEmulator({ clock });
  const blue = ecs.registerTaskDefinition(webDefinition).taskDefinitionArn ?? '';
  const green =
    ecs.registerTaskDefinition({
      ...webDefinition,
      containerDefinitions: [
        { name: 'app', image: '000000000000.dkr.ecr.us-east-1.amazonaws.com/web@sha256:abc' },
      ],
    }).taskDefinitionArn ?? '';
  ecs.labelImage('000000000000.dkr.ecr.us-east-1.amazonaws.com/web@sha256:abc', 'bad');
  ecs.defineService('shop', 'web', {
    taskDefinitionArn: blue,
    code: webCode,
    liveTraffic: { requestsPerMinute: 1000, request: () => ({}) },
    loadBalancer: LB,
    containerName: 'app',
  });
  return { clock, ecs, blue, green };
}

/** A real SDK client whose transport answers from the emulator. */
function clientFor(ecs: EcsEmulator): ECSClient {
  const client = new ECSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' },
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const output = await ecs.handle(
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

describe('EcsEmulator task definitions', () => {
  it('registers revisions and describes them by family, family:revision and ARN, with tags on request', async () => {
    // Prepare
    const ecs = new EcsEmulator({ clock: new FakeClock() });

    // Act
    const first = await ecs.handle('RegisterTaskDefinition', { ...webDefinition }, caller);
    const second = await ecs.handle('RegisterTaskDefinition', { ...webDefinition }, caller);
    const latest = await ecs.handle(
      'DescribeTaskDefinition',
      { taskDefinition: 'web', include: ['TAGS'] },
      caller,
    );
    const byRevision = await ecs.handle('DescribeTaskDefinition', { taskDefinition: 'web:1' }, caller);
    const byArn = await ecs.handle(
      'DescribeTaskDefinition',
      { taskDefinition: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:2' },
      caller,
    );

    // Assess
    expect(first.taskDefinition).toMatchObject({
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
      family: 'web',
      revision: 1,
      status: 'ACTIVE',
      containerDefinitions: webDefinition.containerDefinitions,
      taskRoleArn: webDefinition.taskRoleArn,
    });
    expect((first.taskDefinition as { registeredAt: unknown }).registeredAt).toBeInstanceOf(Date);
    expect(second.taskDefinition).toMatchObject({ revision: 2 });
    expect(latest).toMatchObject({ taskDefinition: { revision: 2 }, tags: [{ key: 'team', value: 'shop' }] });
    expect(byRevision.taskDefinition).toMatchObject({ revision: 1 });
    expect(byRevision.tags).toBeUndefined();
    expect(byArn.taskDefinition).toMatchObject({ revision: 2 });
  });

  it('fails an unknown task definition with ClientException as AWS words it', async () => {
    // Prepare
    const ecs = new EcsEmulator({ clock: new FakeClock() });

    // Act
    const result = ecs.handle('DescribeTaskDefinition', { taskDefinition: 'nope:3' }, caller);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ClientException);
    await expect(result).rejects.toMatchObject({
      message: 'Unable to describe task definition.',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('rejects a registration without containers, or with a container missing its image', async () => {
    // Prepare
    const ecs = new EcsEmulator({ clock: new FakeClock() });

    // Act
    const empty = ecs.handle('RegisterTaskDefinition', { family: 'web', containerDefinitions: [] }, caller);
    const noImage = ecs.handle(
      'RegisterTaskDefinition',
      { family: 'web', containerDefinitions: [{ name: 'a' }] },
      caller,
    );
    const badFamily = ecs.handle(
      'RegisterTaskDefinition',
      { family: 'web app', containerDefinitions: [{ name: 'a', image: 'x' }] },
      caller,
    );

    // Assess
    await expect(empty).rejects.toThrow('Container list cannot be empty.');
    await expect(noImage).rejects.toBeInstanceOf(ClientException);
    await expect(badFamily).rejects.toBeInstanceOf(ClientException);
  });

  it('asks for PassRole on each role, conditioned on ecs-tasks, and TagResource for tags on create', () => {
    // Prepare
    const ecs = new EcsEmulator({ clock: new FakeClock() });
    ecs.registerTaskDefinition(webDefinition);

    // Act
    const register = ecs.authorizations('RegisterTaskDefinition', { ...webDefinition });
    const describe = ecs.authorizations('DescribeTaskDefinition', { taskDefinition: 'web' });

    // Assess
    const next = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:2';
    expect(register).toEqual([
      {
        action: 'ecs:RegisterTaskDefinition',
        resource: next,
        context: { 'aws:TagKeys': ['team'], 'aws:RequestTag/team': 'shop' },
      },
      {
        action: 'iam:PassRole',
        resource: 'arn:aws:iam::000000000000:role/web-task',
        context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      },
      {
        action: 'iam:PassRole',
        resource: 'arn:aws:iam::000000000000:role/web-exec',
        context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      },
      {
        action: 'ecs:TagResource',
        resource: next,
        context: {
          'ecs:CreateAction': 'RegisterTaskDefinition',
          'aws:TagKeys': ['team'],
          'aws:RequestTag/team': 'shop',
        },
      },
    ]);
    expect(describe).toEqual([{ action: 'ecs:DescribeTaskDefinition', resource: '*' }]);
  });

  it('tells a task definition code label by labelled image, version tag or image tag', () => {
    // Prepare
    const { ecs, blue, green } = serviceEmulator();
    const tagged = ecs.registerTaskDefinition({
      family: 'api',
      containerDefinitions: [{ name: 'api', image: 'registry/api@sha256:def' }],
      tags: [{ key: 'version', value: '3.1.0' }],
    });

    // Act
    const labels = [blue, green, tagged.taskDefinitionArn ?? ''].map((arn) => ecs.codeLabelOf(arn));

    // Assess
    expect(labels).toEqual(['1.0.0', 'bad', '3.1.0']);
    expect(ecs.containersOf(blue)).toEqual(['app']);
    expect(ecs.containersOf('arn:aws:ecs:us-east-1:000000000000:task-definition/web:9')).toBeUndefined();
  });

  it('serves the real EcsTaskDefinitions adapter through an SDK client', async () => {
    // Prepare
    const ecs = new EcsEmulator({ clock: new FakeClock() });
    ecs.registerTaskDefinition(webDefinition);
    const adapter = new EcsTaskDefinitions(clientFor(ecs));

    // Act
    const arn = await adapter.registerWithImage({
      from: 'web',
      containerName: 'app',
      imageUri: 'registry/web:2.0.0',
    });

    // Assess
    expect(arn).toBe('arn:aws:ecs:us-east-1:000000000000:task-definition/web:2');
    expect(ecs.codeLabelOf(arn)).toBe('2.0.0');
    const described = await ecs.handle(
      'DescribeTaskDefinition',
      { taskDefinition: arn, include: ['TAGS'] },
      caller,
    );
    expect(described).toMatchObject({
      taskDefinition: { taskRoleArn: webDefinition.taskRoleArn, registeredBy: caller.roleArn },
      tags: webDefinition.tags,
    });
  });
});

describe('EcsEmulator services and ALB metrics', () => {
  it('gives RequestCount, 5XX and TargetResponseTime for 10% shifted to a bad task definition', () => {
    // Prepare
    const { ecs, clock, blue, green } = serviceEmulator();
    const changes: unknown[] = [];
    ecs.onChange((c) => changes.push(c));
    const start = clock.ms;

    // Act
    ecs.routeService('shop', 'web', blue, { taskDefinitionArn: green, weight: 0.1 });
    const requests = ecs.datapoint(albQuery('RequestCount', 'Sum', start));
    const errors = ecs.datapoint(albQuery('HTTPCode_Target_5XX_Count', 'Sum', start));
    const p99 = ecs.datapoint(albQuery('TargetResponseTime', 'p99', start));
    const average = ecs.datapoint(albQuery('TargetResponseTime', 'Average', start));

    // Assess
    expect(requests).toBe(1000);
    expect(errors).toBe(100);
    expect(p99).toBe(0.4);
    expect(average).toBeCloseTo(0.13, 10);
    expect(ecs.serviceTaskDefinition('shop', 'web')).toBe(blue);
    expect(changes).toEqual([
      { namespace: 'AWS/ApplicationELB', dimensions: { LoadBalancer: LB }, atMs: start },
    ]);
  });

  it('has no 5XX datapoint while nothing fails, and repeats its datapoints for the same routing', () => {
    // Prepare
    const { ecs, clock } = serviceEmulator();
    const start = clock.ms;

    // Act
    const errors = ecs.datapoint(albQuery('HTTPCode_Target_5XX_Count', 'Sum', start));
    const first = ecs.datapoint(albQuery('TargetResponseTime', 'p99', start));
    const later = ecs.datapoint(albQuery('TargetResponseTime', 'p99', start + 5 * MINUTE));
    const otherBalancer = ecs.datapoint({
      ...albQuery('RequestCount', 'Sum', start),
      dimensions: { LoadBalancer: 'app/x/1' },
    });

    // Assess
    expect(errors).toBeUndefined();
    expect(first).toBe(0.1);
    expect(later).toBe(first);
    expect(otherBalancer).toBeUndefined();
  });

  it('ends a shift with the replacement as the primary', () => {
    // Prepare
    const { ecs, clock, blue, green } = serviceEmulator();
    ecs.routeService('shop', 'web', blue, { taskDefinitionArn: green, weight: 0.5 });
    clock.ms += MINUTE;

    // Act
    ecs.routeService('shop', 'web', green);

    // Assess
    expect(ecs.serviceTaskDefinition('shop', 'web')).toBe(green);
    expect(ecs.datapoint(albQuery('HTTPCode_Target_5XX_Count', 'Sum', clock.ms))).toBe(1000);
    expect(ecs.datapoint(albQuery('HTTPCode_Target_5XX_Count', 'Sum', clock.ms - MINUTE))).toBe(500);
  });
});
