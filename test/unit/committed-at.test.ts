import { describe, expect, it } from 'vitest';
import { parseCandidate } from '../../shared/usecases/resolve-event';
import { versionPublished } from '../support/events';

const noRepositories = { findComponentByRepository: async () => undefined };

function withCommittedAt(committedAt: unknown) {
  const event = versionPublished({ version: '1.1.0', environment: 'production' });
  return { ...event, detail: { ...event.detail, committedAt } };
}

describe('Version Published committedAt (lead time from commit)', () => {
  it('an ISO 8601 time with a zone is carried with the candidate', async () => {
    // Act
    const parsed = await parseCandidate(withCommittedAt('2026-12-02T09:41:00+01:00'), noRepositories);
    // Assess
    expect(parsed.ok && parsed.candidate.committedAt).toBe('2026-12-02T09:41:00+01:00');
  });

  it('anything else makes the event INVALID, naming the field', async () => {
    for (const bad of ['yesterday', '2026-12-02', '2026-02-30T10:00:00Z', 1764668460]) {
      // Act
      const parsed = await parseCandidate(withCommittedAt(bad), noRepositories);
      // Assess
      expect(parsed.ok).toBe(false);
      if (parsed.ok) continue;
      expect(parsed.outcome).toBe('INVALID');
      expect(parsed.reasons[0]?.message).toMatch(
        /^detail\.committedAt: expected an ISO 8601 time with a zone/,
      );
    }
  });

  it('without it, the candidate has none', async () => {
    const parsed = await parseCandidate(versionPublished({ version: '1.1.0' }), noRepositories);
    expect(parsed.ok && 'committedAt' in parsed.candidate).toBe(false);
  });
});
