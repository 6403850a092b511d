import type { z } from 'zod';
import type { LocalStack } from '../../local/stack';
import type { Stores } from '../../shared/aws/dynamo-store';
import type { Catalog, Component } from '../../shared/domain/catalog';
import { describeIssues } from '../../shared/domain/zod-issues';
import type { ExplainPorts } from '../../shared/usecases/explain-decision';
import type { AwsDeps } from '../aws/cli-api';
import { type AwsTarget, awsTargetOf } from '../aws/stack';
import { openAwsWorkspace } from '../aws/workspace';
import { cliEvent, type Flags, localActor, openStack, type StateUse, str, UsageError } from './shared';

/**
 * What a command reads and writes, the same way locally and on AWS: the table's stores (the same
 * DynamoDB repositories the functions use), the catalog's components, the time, who acts, and the
 * Upshift bus. Locally it is the twin (`--state DIR` or a fresh stack); with `--stack NAME` it is
 * the deployed stack's table and bus, as the caller. Each command is written once against it, so
 * its output, `--json` and exit codes are the same on both.
 */
export interface Workspace {
  kind: 'local' | 'aws';
  /** For messages: "stack UpshiftStateless", "the local state .upshift/local", "a fresh local stack". */
  where: string;
  /** How to name this target again on a command line (`--stack S`, `--state DIR`). */
  flag: string;
  stores: Stores;
  /** The catalog's components the command reports on (the catalog file locally, the table on AWS). */
  components(): Promise<Record<string, Component>>;
  now(): Date;
  /** Who acts: the OS user locally, the caller's AWS principal (STS) on AWS. */
  actor(): Promise<string>;
  /**
   * Validates the event with its detail-type's schema and puts it on the Upshift bus; returns the
   * id the bus gave it. Locally the twin then runs what it started to its end (virtual time).
   */
  putEvent(
    detailType: string,
    detail: Record<string, unknown>,
    schema: z.ZodType,
  ): Promise<{ eventId: string; bus: string }>;
  /** Whether the state changes while the CLI waits (a deployed stack does; a local state does not). */
  live: boolean;
  /** What a dry-run decision reads besides the stores (probes, alarms, the clock). */
  explainPorts(event: unknown): Pick<ExplainPorts, 'prober' | 'alarms' | 'clock'>;
  close(): Promise<void>;
}

/**
 * Opens the workspace the flags name: `--stack NAME` (with `--region`, `--profile`) for a deployed
 * stack, else the local twin (`--state DIR`, checked for `use`). Flags that only make sense
 * locally are refused with --stack, by name.
 */
export async function openWorkspace(
  flags: Flags,
  use: StateUse,
  deps: AwsDeps = {},
  localOnly: readonly string[] = ['state', 'catalog', 'at', 'approve', 'reject', 'approver', 'users'],
): Promise<Workspace> {
  const target = awsTargetOf(flags);
  if (target) {
    for (const flag of localOnly) {
      if (flags[flag] !== undefined) {
        throw new UsageError(`--${flag} and --stack exclude each other: ${whyLocalOnly(flag, target)}`);
      }
    }
    return openAwsWorkspace(target, deps);
  }
  return localWorkspace(await openStack(flags, use), str(flags.state));
}

function whyLocalOnly(flag: string, target: AwsTarget): string {
  if (flag === 'approve' || flag === 'reject' || flag === 'approver' || flag === 'users') {
    return `on AWS approvers answer themselves (upshift approvals list --stack ${target.stack}, upshift approve ID --stack ${target.stack})`;
  }
  return `--${flag} is for the local twin; the stack's own catalog, table and clock apply`;
}

/** The local twin as a workspace. */
export function localWorkspace(stack: LocalStack, stateDir: string | undefined): Workspace {
  const catalog: Catalog = stack.options.catalog;
  return {
    kind: 'local',
    where: stateDir ? `the local state ${stateDir}` : 'a fresh local stack',
    flag: stateDir ? `--state ${stateDir}` : '',
    stores: stack.stores,
    components: async () => catalog.components,
    now: () => stack.scheduler.now(),
    actor: async () => localActor(),
    live: false,
    async putEvent(detailType, detail, schema) {
      const event = cliEvent(stack.scheduler.now(), detailType, detail);
      const check = schema.safeParse(event);
      if (!check.success) throw new UsageError(describeIssues(check.error).join('; '));
      const { rules, eventId } = await stack.publish(event);
      if (rules.length === 0) throw new UsageError('no rule matched the event');
      await stack.drain();
      return { eventId, bus: 'upshift' };
    },
    explainPorts(event) {
      // As CI would have: the version exists before anyone asks about it.
      stack.publishArtifacts(event);
      return { prober: stack.admin.prober(), alarms: stack.admin.alarms(), clock: stack.scheduler };
    },
    close: () => stack.close(),
  };
}
