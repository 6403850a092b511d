import { STSClient } from '@aws-sdk/client-sts';
import type { z } from 'zod';
import { callerArn } from '../../shared/aws/caller-identity';
import { alarmPorts } from '../../shared/aws/cloudwatch-clients';
import { dynamoPorts } from '../../shared/aws/dynamodb-clients';
import { eventPorts } from '../../shared/aws/eventbridge-clients';
import { awsBase, withClients } from '../../shared/aws/ports';
import { proberPorts } from '../../shared/aws/probe-clients';
import { DependencyRejected, TransientDependencyError } from '../../shared/domain/errors';
import { limits } from '../../shared/domain/limits';
import { describeIssues } from '../../shared/domain/zod-issues';
import { CLI_SOURCE, cliEvent, UsageError } from '../commands/shared';
import type { Workspace } from '../commands/workspace';
import type { AwsDeps } from './cli-api';
import { type AwsTarget, openAwsSession, outputOf, resolveCredentials, stackOutputNames } from './stack';

/**
 * A deployed stack as the CLI's workspace, as the caller: the stack's outputs from DescribeStacks
 * (TableName, EventBusName), and the same adapters the functions run on AWS (shared/aws): the
 * DynamoDB repositories over the table, the EventBridge publisher on the bus, the Lambda and HTTP
 * probers and the alarm reader for `policies explain`. Nothing is read or written another way.
 */
export async function openAwsWorkspace(target: AwsTarget, deps: AwsDeps = {}): Promise<Workspace> {
  const session = await openAwsSession(target, deps.cloudFormation);
  const table = outputOf(session, stackOutputNames.tableName);
  await resolveCredentials(session);
  const clientConfig = { ...session.clientConfig, ...deps.clientConfig };
  const aws = withClients(
    awsBase(
      {
        UPSHIFT_TABLE_NAME: table,
        // Checked when an event is put (outputOf below); reads need only the table.
        UPSHIFT_EVENT_BUS_NAME: session.outputs[stackOutputNames.eventBusName] ?? '-',
      },
      { clientConfig },
    ),
    dynamoPorts,
    eventPorts,
    proberPorts,
    alarmPorts,
  );
  const raw = aws.stores();
  const stores = refusalsAsUsage(target, raw);
  const sts = deps.sts ?? new STSClient(clientConfig);
  let actor: Promise<string> | undefined;
  return {
    kind: 'aws',
    where: `stack ${target.stack}`,
    flag: `--stack ${target.stack}`,
    stores,
    components: () => onStack(target, 'read the catalog', () => raw.catalog.listComponents()),
    now: () => aws.clock.now(),
    actor: () => {
      actor ??= onStack(target, 'identify the caller', async () => {
        const arn = await callerArn(sts);
        if (arn.length > limits.actorChars) {
          throw new UsageError(
            `your AWS principal's ARN is longer than ${limits.actorChars} characters, which a record cannot hold: ${arn.slice(0, 80)}...`,
          );
        }
        return arn;
      });
      return actor;
    },
    live: true,
    async putEvent(detailType: string, detail: Record<string, unknown>, schema: z.ZodType) {
      const bus = outputOf(session, stackOutputNames.eventBusName);
      // Validated as the bus's rule and Intake will read it, before anything is sent.
      const check = schema.safeParse(cliEvent(aws.clock.now(), detailType, detail));
      if (!check.success) throw new UsageError(describeIssues(check.error).join('; '));
      let ids: string[];
      try {
        ids = await aws.events().put([{ source: CLI_SOURCE, detailType, detail }]);
      } catch (error) {
        if (error instanceof DependencyRejected || error instanceof TransientDependencyError) {
          throw new UsageError(
            `--stack ${target.stack}: EventBridge did not take the event on bus ${bus}, so nothing started: ${error.message}${
              error instanceof TransientDependencyError ? ' (a transient failure: run the command again)' : ''
            }${/AccessDenied/i.test(error.message) ? `; the caller needs events:PutEvents on the bus ${bus}` : ''}`,
          );
        }
        throw error;
      }
      const eventId = ids[0];
      if (!eventId) throw new UsageError(`--stack ${target.stack}: EventBridge answered with no event id`);
      return { eventId, bus };
    },
    explainPorts: () => ({ prober: aws.prober(), alarms: aws.alarms(), clock: aws.clock }),
    close: async () => undefined,
  };
}

/**
 * The stores with every call's refusal by AWS (access denied on the table, a missing table) turned
 * into one line naming the stack and the call, as `onStack` does; results and other errors pass.
 */
function refusalsAsUsage<S extends object>(target: AwsTarget, stores: S): S {
  const wrapped: Record<string, unknown> = {};
  for (const [name, store] of Object.entries(stores)) {
    wrapped[name] = new Proxy(store as object, {
      get(object, key, receiver) {
        const value = Reflect.get(object, key, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          onStack(target, `read or write ${name} (${String(key)})`, () =>
            Promise.resolve(value.apply(object, args)),
          );
      },
    });
  }
  return wrapped as S;
}

/**
 * Runs one read or write on the stack; AWS's refusals (access denied, no such table) become one
 * line naming the stack and what was tried, with exit status 2 like any other usage error.
 */
export async function onStack<T>(target: AwsTarget, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof DependencyRejected) {
      throw new UsageError(`--stack ${target.stack}: AWS refused to ${what}: ${error.message}`);
    }
    throw error;
  }
}
