import { z } from 'zod';

/**
 * The EventBridge envelope as a rule delivers it to a target. Each detail-type module builds its
 * own schema from this, so a handler, the CLI and the tests validate with the same object.
 */
export function eventBridgeEnvelope<D extends z.ZodType, T extends string>(detailType: T, detail: D) {
  // Not strict: AWS adds envelope fields (`replay-name`...), and those must not make events INVALID.
  return z.object(
    {
      version: z.string().default('0'),
      id: z.string().min(1, 'expected the event id'),
      'detail-type': z.literal(detailType, { error: `expected "${detailType}"` }),
      source: z.string().min(1, 'expected the event source'),
      account: z.string().default(''),
      time: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 timestamp' }),
      region: z.string().default(''),
      resources: z.array(z.string()).default([]),
      detail,
    },
    { error: (issue) => (issue.code === 'invalid_type' ? notAnEvent(issue.input) : undefined) },
  );
}

/** What a file or a body holding `null`, a number or an array reads as. */
function notAnEvent(input: unknown): string {
  const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
  return `expected an EventBridge event (a JSON object), got ${got}`;
}

/** The fields every event has, enough to route it before choosing a detail schema. */
export const routingFields = z.object(
  {
    'detail-type': z.string({ error: 'expected the string field "detail-type"' }),
    source: z.string({ error: 'expected the string field "source"' }),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? notAnEvent(issue.input) : undefined) },
);
