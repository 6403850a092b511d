import * as rollbackRequested from '../../shared/domain/events/rollback-requested';
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
 * `upshift rollback --component C --env E [--to VERSION] --reason R`: puts `Rollback Requested` on
 * the local bus. A shift in flight is stopped with rollback; otherwise the component goes back to
 * VERSION, or to the version before the current one.
 */
export async function rollback(flags: Flags, out: (s: string) => void): Promise<number> {
  const component = str(flags.component);
  const environment = str(flags.env);
  const reason = str(flags.reason);
  if (!component || !environment) throw new UsageError('rollback: --component and --env are required');
  if (!reason) throw new UsageError('rollback: --reason is required (it is recorded on the workflow)');
  const stack = await openStack(flags, 'write');
  try {
    const event = cliEvent(stack, rollbackRequested.detailType, {
      component,
      environment,
      ...(str(flags.to) ? { toVersion: str(flags.to) } : {}),
      reason,
      requestedBy: localActor(),
    });
    const check = rollbackRequested.schema.safeParse(event);
    if (!check.success) throw new UsageError(describeIssues(check.error).join('; '));
    const { eventId } = await stack.publish(event);
    await stack.drain();
    const mine = (await stack.stores.workflows.list(20)).find((r) => r.eventId === eventId);
    const presented = presentRecord(mine, { execution: 'unknown' });
    out(flags.json ? `${JSON.stringify(presented, null, 2)}\n` : formatRecord(presented));
    return 0;
  } finally {
    await stack.close();
  }
}
