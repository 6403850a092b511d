import { randomUUID } from 'node:crypto';
import * as published from '../../shared/domain/events/version-published';
import { describeIssues } from '../../shared/domain/zod-issues';
import type { Flags } from '../main';
import { UsageError } from '../main';
import { formatRecord, openStack, presentRecord, str } from './shared';

/**
 * `upshift publish`: builds a Version Published event, puts it on the local bus, and waits for
 * the workflows the rules started. With --state it uses and keeps a persistent local stack.
 */
export async function publish(flags: Flags, out: (s: string) => void): Promise<number> {
  const component = str(flags.component);
  const version = str(flags.version);
  if (!component || !version) throw new UsageError('publish: --component and --version are required');
  const stack = await openStack(flags);
  try {
    const target = stack.options.catalog.components[component];
    const functionName = target?.target.type === 'lambda' ? target.target.functionName : component;
    const event = {
      version: '0' as const,
      id: randomUUID(),
      'detail-type': published.detailType,
      source: 'upshift.cli',
      account: '000000000000',
      time: stack.scheduler.now().toISOString(),
      region: 'local',
      resources: [],
      detail: {
        component,
        version,
        ...(str(flags.env) ? { environment: str(flags.env) } : {}),
        artifact: { type: 'lambda', functionName, functionVersion: str(flags['function-version']) ?? '2' },
        labels: (flags.label as string[] | undefined) ?? [],
        publishedBy: process.env.USER ? `${process.env.USER}@local` : 'cli@local',
      },
    };
    const check = published.schema.safeParse(event);
    if (!check.success) throw new UsageError(describeIssues(check.error).join('; '));
    const rules = stack.publish(event);
    if (rules.length === 0) throw new UsageError('no rule matched the event');
    await stack.drain();
    const records = await stack.stores.workflows.list(10);
    const mine = records.find((r) => r.eventId === event.id);
    const presented = presentRecord(mine, { execution: 'unknown' });
    out(flags.json ? `${JSON.stringify(presented, null, 2)}\n` : formatRecord(presented));
    return 0;
  } finally {
    await stack.close();
  }
}
