import { writeFileSync } from 'node:fs';
import { auditCsv, auditEntry } from '../../shared/domain/audit-export';
import type { AwsDeps } from '../aws/cli-api';
import { readRecordWindow } from './metrics';
import { type Flags, str, UsageError } from './shared';

/**
 * `upshift export`: the audit trail of the workflows started since a time, as JSON or RFC 4180
 * CSV, to stdout or `--out FILE` (docs/metrics.md).
 */
export async function exportAudit(
  flags: Flags,
  out: (s: string) => void,
  deps: AwsDeps = {},
): Promise<number> {
  const format = str(flags.format) ?? 'json';
  if (format !== 'json' && format !== 'csv') {
    throw new UsageError(`--format: expected "json" or "csv", got "${format}"`);
  }
  if (flags.out !== undefined && !str(flags.out)) throw new UsageError('--out: expected a file name');
  if (flags.json) throw new UsageError('--json: use --format json');
  const window = await readRecordWindow(flags, 'export', deps);
  const entries = window.records
    .filter((r) => !window.component || r.component === window.component)
    .filter((r) => !window.environment || r.environment === window.environment)
    .map(auditEntry);
  const text =
    format === 'csv'
      ? auditCsv(entries)
      : `${JSON.stringify(
          {
            since: window.since ?? null,
            until: window.until,
            filters: { component: window.component ?? null, environment: window.environment ?? null },
            count: entries.length,
            entries,
          },
          null,
          2,
        )}\n`;
  const file = str(flags.out);
  if (!file) {
    out(text);
    return 0;
  }
  try {
    writeFileSync(file, text);
  } catch (error) {
    throw new UsageError(`--out: cannot write ${file}: ${(error as Error).message}`);
  }
  out(`wrote ${entries.length} workflow${entries.length === 1 ? '' : 's'} to ${file} (${format})\n`);
  return 0;
}
