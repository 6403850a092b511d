import { readFileSync } from 'node:fs';
import { UNPARSABLE } from '../../shared/usecases/resolve-event';
import { type Flags, formatRecord, openStack, presentRecord, str, UsageError } from './shared';

/**
 * What the stack is given for the file's text: the event, or, for text that is not a JSON object
 * (`null`, a number, an array, broken JSON), the unparsable marker with the reason, so the
 * workflow ends INVALID with that reason instead of failing inside the state machine.
 */
export function eventFromText(text: string): unknown {
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (error) {
    return { [UNPARSABLE]: text.slice(0, 2000), parseError: (error as Error).message };
  }
  if (event && typeof event === 'object' && !Array.isArray(event)) return event;
  const got = event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event;
  return {
    [UNPARSABLE]: text.slice(0, 2000),
    parseError: `expected an EventBridge event (a JSON object), got ${got}`,
  };
}

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
  const stack = await openStack(flags, 'write');
  try {
    const { execution, record } = await stack.run(eventFromText(text));
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
