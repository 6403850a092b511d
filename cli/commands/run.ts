import { readFileSync } from 'node:fs';
import type { Flags } from '../main';
import { UsageError } from '../main';
import { formatRecord, openStack, presentRecord, str } from './shared';

/** `upshift run --event FILE`: one event through a local stack, to its end. */
export async function run(flags: Flags, out: (s: string) => void): Promise<number> {
  const file = str(flags.event);
  if (!file)
    throw new UsageError('run: --event FILE is required (an EventBridge event as a rule delivers it)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--event: cannot read ${file}: ${(error as Error).message}`);
  }
  const stack = await openStack(flags);
  try {
    const { execution, record } = await stack.runText(text);
    const presented = presentRecord(record, {
      execution: execution.name,
      ...(execution.error ? { error: `${execution.error}: ${execution.cause ?? ''}` } : {}),
    });
    out(flags.json ? `${JSON.stringify(presented, null, 2)}\n` : formatRecord(presented));
    return 0;
  } finally {
    await stack.close();
  }
}
