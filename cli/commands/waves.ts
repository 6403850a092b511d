import { describeWave, type Wave } from '../../shared/domain/waves';
import type { AwsDeps } from '../aws/cli-api';
import { type Flags, UsageError } from './shared';
import { guarded, limitOf, requireStateOrStack } from './state';
import { openWorkspace } from './workspace';

/**
 * `upshift waves list|show ID`: promotion waves (docs/waves.md), newest first, or one wave's
 * stages: where it is, when each stage ran, its workflow, and where and why it halted.
 */
export async function waves(
  args: string[],
  flags: Flags,
  out: (s: string) => void,
  deps: AwsDeps = {},
): Promise<number> {
  requireStateOrStack(flags, 'waves');
  const [sub, id] = args;
  if (sub !== 'list' && sub !== 'show') throw new UsageError('waves: expected "list" or "show ID"');
  if (sub === 'show' && !id) throw new UsageError('waves show: expected a wave id (see upshift waves list)');
  const limit = limitOf(flags);
  const ws = await openWorkspace(flags, 'read', deps, ['state', 'catalog', 'at']);
  try {
    if (sub === 'show') {
      const wave = await guarded(ws, flags, 'read the wave', () => ws.stores.waves.get(id as string));
      if (!wave) throw new UsageError(`no wave "${id}" in ${ws.where}`);
      out(flags.json ? `${JSON.stringify(wave, null, 2)}\n` : formatWave(wave));
      return 0;
    }
    const list = await guarded(ws, flags, 'list the waves', () => ws.stores.waves.list(limit));
    if (flags.json) out(`${JSON.stringify(list, null, 2)}\n`);
    else if (list.length === 0) out(`no promotion waves in ${ws.where}\n`);
    else for (const wave of list) out(`${wave.waveId}  ${describeWave(wave)}\n`);
    return 0;
  } finally {
    await ws.close();
  }
}

/** One wave, a stage per line. */
export function formatWave(wave: Wave): string {
  const lines = [
    `${wave.waveId}: ${wave.component} ${wave.version} ${wave.status}`,
    `  started ${wave.startedAt}${wave.release ? `, release ${wave.release}` : ''}${
      wave.after.length ? `, after ${wave.after.join(', ')}` : ''
    }${wave.coordinatedRollback ? ', coordinated rollback' : ''}`,
  ];
  for (const s of wave.stages) {
    const when = [
      s.startedAt ? `started ${s.startedAt}` : s.publishedAt ? `published ${s.publishedAt}` : '',
      s.endedAt ? `ended ${s.endedAt}${s.outcome ? ` ${s.outcome}` : ''}` : '',
      s.status === 'SOAKING' && s.soakUntil ? `soaks until ${s.soakUntil}` : '',
    ].filter(Boolean);
    lines.push(
      `  ${s.environment.padEnd(12)} ${s.status.padEnd(9)} ${when.join(', ')}${s.workflowId ? `  (${s.workflowId})` : ''}`,
    );
    if (s.note) lines.push(`  ${''.padEnd(12)} ${s.note}`);
    if (s.rollback) {
      lines.push(
        `  ${''.padEnd(12)} rollback to ${s.rollback.toVersion ?? 'the version before'} ${s.rollback.sent ? 'requested' : 'decided'} ${s.rollback.requestedAt}`,
      );
    }
  }
  if (wave.halted) {
    lines.push(`  halted in ${wave.halted.environment} at ${wave.halted.at}:`);
    for (const r of wave.halted.reasons) lines.push(`    ${r.code}: ${r.message}`);
  }
  if (wave.supersededBy) {
    lines.push(
      `  superseded by ${wave.supersededBy.version} (${wave.supersededBy.waveId}) at ${wave.supersededBy.at}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
