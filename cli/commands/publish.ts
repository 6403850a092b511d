import { componentOf } from '../../shared/domain/catalog';
import * as published from '../../shared/domain/events/version-published';
import { describeIssues } from '../../shared/domain/zod-issues';
import {
  cliEvent,
  type Flags,
  formatRecord,
  localActor,
  openStack,
  presentRecord,
  str,
  UsageError,
} from './shared';

/**
 * `upshift publish`: builds a Version Published event, puts it on the local bus, and waits for
 * the workflows the rules started. With --state it uses and keeps a persistent local stack.
 */
export async function publish(flags: Flags, out: (s: string) => void): Promise<number> {
  const component = str(flags.component);
  const version = str(flags.version);
  if (!component || !version) throw new UsageError('publish: --component and --version are required');
  const stack = await openStack(flags, 'write');
  try {
    const target = componentOf(stack.options.catalog, component);
    const functionName = target?.target.type === 'lambda' ? target.target.functionName : component;
    const event = cliEvent(stack, published.detailType, {
      component,
      version,
      ...(str(flags.env) ? { environment: str(flags.env) } : {}),
      artifact: { type: 'lambda', functionName, functionVersion: str(flags['function-version']) ?? '2' },
      labels: (flags.label as string[] | undefined) ?? [],
      publishedBy: localActor(),
    });
    const check = published.schema.safeParse(event);
    if (!check.success) throw new UsageError(describeIssues(check.error).join('; '));
    const { rules, eventId } = await stack.publish(event);
    if (rules.length === 0) throw new UsageError('no rule matched the event');
    await stack.drain();
    const records = await stack.stores.workflows.list(10);
    const mine = records.find((r) => r.eventId === eventId);
    const presented = presentRecord(mine, { execution: 'unknown' });
    out(flags.json ? `${JSON.stringify(presented, null, 2)}\n` : formatRecord(presented));
    return 0;
  } finally {
    await stack.close();
  }
}
