import * as rollbackRequested from '../../shared/domain/events/rollback-requested';
import type { AwsDeps } from '../aws/cli-api';
import { showStarted } from './publish';
import { type Flags, str, UsageError } from './shared';
import { waitOptions } from './state';
import { openWorkspace } from './workspace';

/**
 * `upshift rollback --component C --env E [--to VERSION] --reason R`: puts `Rollback Requested` on
 * the Upshift bus (the local twin's, or the deployed stack's with `--stack NAME`). A shift in
 * flight is stopped with rollback; otherwise the component goes back to VERSION, or to the version
 * before the current one. It shows the workflow as `publish` does.
 */
export async function rollback(flags: Flags, out: (s: string) => void, deps: AwsDeps = {}): Promise<number> {
  const component = str(flags.component);
  const environment = str(flags.env);
  const reason = str(flags.reason);
  if (!component || !environment) throw new UsageError('rollback: --component and --env are required');
  if (!reason) throw new UsageError('rollback: --reason is required (it is recorded on the workflow)');
  const wait = waitOptions(flags);
  const ws = await openWorkspace(flags, 'write', deps);
  try {
    const { eventId, bus } = await ws.putEvent(
      rollbackRequested.detailType,
      {
        component,
        environment,
        ...(str(flags.to) ? { toVersion: str(flags.to) } : {}),
        reason,
        requestedBy: await ws.actor(),
      },
      rollbackRequested.schema,
    );
    return await showStarted(ws, eventId, bus, flags, out, deps, wait);
  } finally {
    await ws.close();
  }
}
