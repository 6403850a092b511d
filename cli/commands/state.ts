import { type Flags, formatRecord, openStack, presentRecord, str, UsageError } from './shared';

function requireState(flags: Flags, command: string): void {
  if (!str(flags.state)) {
    throw new UsageError(
      `${command}: --state DIR is required locally (the folder that run/publish --state wrote)`,
    );
  }
}

/** `upshift status`: the registry per component and environment. */
export async function status(flags: Flags, out: (s: string) => void): Promise<number> {
  requireState(flags, 'status');
  const stack = await openStack(flags, 'read');
  try {
    const wanted = str(flags.component);
    const rows = [];
    for (const [name, component] of Object.entries(stack.options.catalog.components)) {
      if (wanted && wanted !== name) continue;
      for (const env of Object.keys(component.environments)) {
        const entry = await stack.stores.registry.get(name, env);
        const lock = await stack.stores.locks.get(`${name}#${env}`);
        rows.push({
          component: name,
          environment: env,
          current: entry?.current.version ?? component.environments[env]?.baseline.version ?? null,
          previous: entry?.previous?.version ?? null,
          lastKnownGood:
            entry?.lastKnownGood.version ?? component.environments[env]?.baseline.version ?? null,
          lastUpgradeAt: entry?.lastUpgradeAt ?? null,
          lockedBy: lock && Date.parse(lock.expiresAt) > stack.scheduler.now().getTime() ? lock.owner : null,
        });
      }
    }
    if (wanted && rows.length === 0) throw new UsageError(`--component: "${wanted}" is not in the catalog`);
    if (flags.json) out(`${JSON.stringify(rows, null, 2)}\n`);
    else {
      for (const r of rows) {
        out(
          `${r.component.padEnd(12)} ${r.environment.padEnd(12)} current ${String(r.current).padEnd(10)} previous ${String(
            r.previous ?? '-',
          ).padEnd(
            10,
          )} last-known-good ${r.lastKnownGood ?? '-'}${r.lockedBy ? `  locked by ${r.lockedBy}` : ''}\n`,
        );
      }
    }
    return 0;
  } finally {
    await stack.close();
  }
}

/** `upshift workflows list|show`. */
export async function workflows(args: string[], flags: Flags, out: (s: string) => void): Promise<number> {
  requireState(flags, 'workflows');
  const [sub, id] = args;
  if (sub !== 'list' && sub !== 'show') throw new UsageError('workflows: expected "list" or "show ID"');
  if (sub === 'show' && !id) throw new UsageError('workflows show: expected a workflow id');
  const limit = str(flags.limit) ? Number(str(flags.limit)) : 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError('--limit: expected a whole number from 1 to 1000');
  const stack = await openStack(flags, 'read');
  try {
    if (sub === 'show') {
      const record = await stack.stores.workflows.get(id as string);
      if (!record) throw new UsageError(`no workflow "${id}"`);
      const p = presentRecord(record, { execution: id as string });
      out(flags.json ? `${JSON.stringify({ ...p, evidence: record.evidence }, null, 2)}\n` : formatRecord(p));
      return 0;
    }
    const records = await stack.stores.workflows.list(limit);
    if (flags.json)
      out(
        `${JSON.stringify(
          records.map((r) => presentRecord(r, { execution: r.workflowId })),
          null,
          2,
        )}\n`,
      );
    else {
      for (const r of records) {
        out(
          `${r.workflowId}  ${(r.outcome ?? r.status).padEnd(11)} ${r.component ?? '-'} ${r.version ?? '-'} ${r.environment ?? '-'}  ${r.startedAt}\n`,
        );
      }
    }
    return 0;
  } finally {
    await stack.close();
  }
}
