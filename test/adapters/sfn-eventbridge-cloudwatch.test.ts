import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarmReader } from '../../shared/aws/cloudwatch-alarms';
import { EventBridgePublisher } from '../../shared/aws/eventbridge-publisher';
import { StepFunctionsCallbacks } from '../../shared/aws/sfn-callbacks';
import { TransientDependencyError } from '../../shared/domain/errors';

const sfn = mockClient(SFNClient);
const eb = mockClient(EventBridgeClient);
const cw = mockClient(CloudWatchClient);

beforeEach(() => {
  sfn.reset();
  eb.reset();
  cw.reset();
});

describe('Step Functions callbacks', () => {
  const callbacks = new StepFunctionsCallbacks(new SFNClient({ region: 'eu-west-1' }));

  it('sends SendTaskSuccess with the output as a JSON string', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    await callbacks.sendSuccess('token-1', { approved: true, by: 'ana' });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'token-1',
      output: '{"approved":true,"by":"ana"}',
    });
  });

  it('sends SendTaskFailure with error and cause within their limits', async () => {
    sfn.on(SendTaskFailureCommand).resolves({});
    await callbacks.sendFailure('token-2', 'ApprovalExpired', 'x'.repeat(40_000));
    const input = sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(input?.taskToken).toBe('token-2');
    expect(input?.error).toBe('ApprovalExpired');
    expect(input?.cause).toHaveLength(32_768);
  });

  it('treats TaskTimedOut as already answered', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('closed'), { name: 'TaskTimedOut' }));
    await expect(callbacks.sendSuccess('late', {})).resolves.toBeUndefined();
  });

  it('surfaces other errors', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('bad'), { name: 'InvalidToken' }));
    await expect(callbacks.sendSuccess('bad', {})).rejects.toThrow('bad');
  });
});

describe('EventBridge publisher', () => {
  const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'upshift-bus');

  it('puts entries on the Upshift bus with a JSON detail, ten per call', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const events = Array.from({ length: 12 }, (_, i) => ({
      source: 'upshift',
      detailType: 'Upgrade Completed',
      detail: { n: i },
      time: '2026-12-02T10:00:00.000Z',
    }));
    await publisher.publish(events);
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input.Entries).toHaveLength(10);
    expect(calls[0]?.args[0].input.Entries?.[0]).toEqual({
      EventBusName: 'upshift-bus',
      Source: 'upshift',
      DetailType: 'Upgrade Completed',
      Detail: '{"n":0}',
      Resources: [],
      Time: new Date('2026-12-02T10:00:00.000Z'),
    });
  });

  it('fails on a partial failure instead of losing events', async () => {
    eb.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    await expect(
      publisher.publish([{ source: 'upshift', detailType: 'x', detail: {} }]),
    ).rejects.toBeInstanceOf(TransientDependencyError);
  });
});

describe('CloudWatch alarm reader', () => {
  it('describes metric and composite alarms by name', async () => {
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'a',
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed',
          StateUpdatedTimestamp: new Date('2026-12-02T10:00:00Z'),
        },
      ],
      CompositeAlarms: [
        {
          AlarmName: 'b',
          StateValue: 'OK',
          StateReason: 'fine',
          StateUpdatedTimestamp: new Date('2026-12-02T09:00:00Z'),
        },
      ],
    });
    const reader = new CloudWatchAlarmReader(new CloudWatchClient({ region: 'eu-west-1' }));
    expect(await reader.describe(['a', 'b'])).toEqual([
      { name: 'a', state: 'ALARM', reason: 'Threshold Crossed', updatedAt: '2026-12-02T10:00:00.000Z' },
      { name: 'b', state: 'OK', reason: 'fine', updatedAt: '2026-12-02T09:00:00.000Z' },
    ]);
    expect(cw.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toEqual({
      AlarmNames: ['a', 'b'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });
});
