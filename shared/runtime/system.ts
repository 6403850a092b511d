import { randomBytes } from 'node:crypto';
import type { Clock, IdGenerator } from '../ports';

export const systemClock: Clock = { now: () => new Date() };

/** Ids that sort by creation time: prefix, base-36 milliseconds, then random hex. */
export function timeOrderedIds(clock: Clock = systemClock): IdGenerator {
  return {
    next: (prefix) => `${prefix}-${clock.now().getTime().toString(36)}-${randomBytes(5).toString('hex')}`,
  };
}
