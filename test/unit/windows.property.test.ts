import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInWindow, nextWindowStart, occurrences, type Window, weekdays } from '../../shared/domain/windows';

const zones = ['UTC', 'Europe/Berlin', 'America/New_York'] as const;
const hm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const windowArb: fc.Arbitrary<Window> = fc.record({
  days: fc.uniqueArray(fc.constantFrom(...weekdays), { minLength: 1, maxLength: 7 }),
  start: hm,
  end: hm,
  timezone: fc.constantFrom(...zones),
});
// 2026 to 2027, with extra weight on the DST changes of both zones.
const dstEdges = [
  Date.parse('2026-03-08T07:00:00Z'), // New York springs forward
  Date.parse('2026-03-29T01:00:00Z'), // Berlin springs forward
  Date.parse('2026-10-25T01:00:00Z'), // Berlin falls back
  Date.parse('2026-11-01T06:00:00Z'), // New York falls back
];
const instant = fc.oneof(
  fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') }),
  fc
    .tuple(fc.constantFrom(...dstEdges), fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }))
    .map(([e, d]) => e + d),
);

describe('nextWindowStart (property-based)', () => {
  it('is at or after the instant, inside a window, with no window start between them', () => {
    fc.assert(
      fc.property(fc.array(windowArb, { minLength: 1, maxLength: 3 }), instant, (windows, at) => {
        const next = nextWindowStart(windows, at);
        if (next === undefined) return; // only when no window occurs within the horizon
        expect(next).toBeGreaterThanOrEqual(at);
        expect(isInWindow(windows, next)).toBe(true);
        if (next > at) {
          expect(isInWindow(windows, at)).toBe(false);
          const starts = occurrences(windows, at, next).filter((o) => o.start > at && o.start < next);
          expect(starts).toEqual([]);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('always finds a window when every day has one', () => {
    fc.assert(
      fc.property(hm, hm, fc.constantFrom(...zones), instant, (start, end, timezone, at) => {
        fc.pre(start !== end);
        const next = nextWindowStart([{ days: [...weekdays], start, end, timezone }], at);
        expect(next).toBeDefined();
        expect((next as number) - at).toBeLessThanOrEqual(2 * 86_400_000);
      }),
      { numRuns: 300 },
    );
  });
});

describe('windows across DST changes', () => {
  it('Berlin 02:00-04:00 on the spring-forward Sunday opens at 03:00 local (the gap is skipped)', () => {
    const w: Window[] = [{ days: ['SUN'], start: '02:00', end: '04:00', timezone: 'Europe/Berlin' }];
    expect(new Date(nextWindowStart(w, Date.parse('2026-03-28T12:00:00Z')) ?? 0).toISOString()).toBe(
      '2026-03-29T01:00:00.000Z',
    );
  });
  it('Berlin 02:00-04:00 on the fall-back Sunday opens at the first 02:00 (CEST)', () => {
    const w: Window[] = [{ days: ['SUN'], start: '02:00', end: '04:00', timezone: 'Europe/Berlin' }];
    expect(new Date(nextWindowStart(w, Date.parse('2026-10-24T12:00:00Z')) ?? 0).toISOString()).toBe(
      '2026-10-25T00:00:00.000Z',
    );
  });
  it('New York 01:30-02:30 on the spring-forward Sunday', () => {
    const w: Window[] = [{ days: ['SUN'], start: '01:30', end: '02:30', timezone: 'America/New_York' }];
    const next = nextWindowStart(w, Date.parse('2026-03-07T12:00:00Z'));
    expect(new Date(next ?? 0).toISOString()).toBe('2026-03-08T06:30:00.000Z'); // 01:30 EST
    expect(isInWindow(w, Date.parse('2026-03-08T06:59:00Z'))).toBe(true); // 01:59 EST
    expect(isInWindow(w, Date.parse('2026-03-08T07:10:00Z'))).toBe(true); // 03:10 EDT, before the shifted end
  });
  it('New York 22:00-02:00 crosses midnight, Friday into Saturday', () => {
    const w: Window[] = [{ days: ['FRI'], start: '22:00', end: '02:00', timezone: 'America/New_York' }];
    expect(isInWindow(w, Date.parse('2026-12-05T06:30:00Z'))).toBe(true); // Sat 01:30 EST
    expect(isInWindow(w, Date.parse('2026-12-05T07:30:00Z'))).toBe(false); // Sat 02:30 EST
  });
});
