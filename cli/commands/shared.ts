import { randomUUID } from 'node:crypto';
import { LocalStack } from '../../local/stack';
import type { Catalog } from '../../shared/domain/catalog';
import type { WorkflowRecord } from '../../shared/domain/workflow';
import { loadCatalog } from '../catalog-file';
import type { Flags } from '../main';

export async function openStack(
  flags: Flags,
  catalog: Catalog = loadCatalog(str(flags.catalog)),
): Promise<LocalStack> {
  return LocalStack.start({
    catalog,
    ...(str(flags.state) ? { stateDir: str(flags.state) as string } : {}),
    ...(str(flags.at) ? { startAt: new Date(str(flags.at) as string) } : {}),
    ...(flags.approve || flags.reject
      ? {
          autoAnswer: {
            approve: !!flags.approve,
            by: (flags.approver as string[] | undefined)?.length
              ? (flags.approver as string[])
              : localActor(),
            ...((flags.group as string[] | undefined)?.length ? { groups: flags.group as string[] } : {}),
          },
        }
      : {}),
  });
}

export function str(v: Flags[string]): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The final workflow record as the CLI prints it. */
export function presentRecord(
  record: WorkflowRecord | undefined,
  fallback: { execution: string; error?: string },
) {
  if (!record) {
    return {
      workflowId: fallback.execution,
      outcome: 'FAILED',
      reasons: [{ code: 'NO_RECORD', message: fallback.error ?? 'the workflow left no record' }],
      history: [],
    };
  }
  return {
    workflowId: record.workflowId,
    outcome: record.outcome ?? 'FAILED',
    reasons: record.reasons,
    component: record.component ?? null,
    version: record.version ?? null,
    environment: record.environment ?? null,
    startedAt: record.startedAt,
    endedAt: record.endedAt ?? null,
    history: record.history,
  };
}

export function formatRecord(p: ReturnType<typeof presentRecord>): string {
  const lines = [
    `${p.outcome}  ${'component' in p ? `${p.component ?? '-'} ${p.version ?? '-'} in ${p.environment ?? '-'}` : ''}  (${p.workflowId})`,
    ...p.reasons.map((r) => `  ${r.code}: ${r.message}`),
    '  history:',
    ...p.history.map((h) => `    ${h.at}  ${h.stage.padEnd(8)} ${h.status.padEnd(12)} ${h.detail}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** An event as the local bus receives it from `upshift` (PutEvents), stamped with the virtual time. */
export function cliEvent<D extends Record<string, unknown>>(
  stack: LocalStack,
  detailType: string,
  detail: D,
) {
  return {
    version: '0' as const,
    id: randomUUID(),
    'detail-type': detailType,
    source: 'upshift.cli',
    account: '000000000000',
    time: stack.scheduler.now().toISOString(),
    region: 'local',
    resources: [] as string[],
    detail,
  };
}

/** Who is acting, for the records: the OS user, marked local. */
export function localActor(): string {
  return process.env.USER ? `${process.env.USER}@local` : 'cli@local';
}
