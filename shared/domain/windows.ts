/**
 * Maintenance windows in IANA time zones. A window is a weekly local-time range; one whose end is
 * not after its start crosses midnight. A local time inside a spring-forward gap moves forward by
 * the gap's length; an ambiguous one (fall-back) takes the earlier instant.
 */
export const weekdays = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
export type Weekday = (typeof weekdays)[number];

export interface Window {
  days: readonly Weekday[];
  /** HH:MM local time. */
  start: string;
  /** HH:MM local time; at or before `start` means the window ends the next day. */
  end: string;
  timezone: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: Weekday;
}

/** Local calendar fields from the platform's time-zone data (Intl); the slow path. */
function intlParts(epochMs: number, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(epochMs))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: (parts.weekday ?? 'Sun').toUpperCase() as Weekday,
  };
}

/**
 * Offsets are cached per 15-minute bucket: every zone's transitions fall on a quarter hour, so an
 * offset is constant within a bucket.
 */
const BUCKET_MS = 15 * 60_000;
const offsetCache = new Map<string, number>();

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(epochMs: number, timeZone: string): number {
  const bucket = Math.floor(epochMs / BUCKET_MS);
  const key = `${timeZone}|${bucket}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    const at = bucket * BUCKET_MS;
    const p = intlParts(at, timeZone);
    offset = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - at;
    if (offsetCache.size >= 50_000) offsetCache.clear();
    offsetCache.set(key, offset);
  }
  return offset;
}

/** Local calendar fields of an instant in a zone. */
export function localParts(epochMs: number, timeZone: string): LocalParts {
  const local = new Date(epochMs + offsetAt(epochMs, timeZone));
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    second: local.getUTCSeconds(),
    weekday: weekdays[local.getUTCDay()] as Weekday,
  };
}

const zonedCache = new Map<string, number>();
const ZONED_CACHE_LIMIT = 20_000;

/**
 * The instant at which the wall clock in `timeZone` shows the given local time. Memoized: window
 * maths asks for the same few local times over and over, and each answer costs several Intl calls.
 */
export function zonedTimeToEpoch(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  timeZone: string,
): number {
  const key = `${timeZone}|${year}|${month}|${day}|${hour}|${minute}`;
  let value = zonedCache.get(key);
  if (value === undefined) {
    value = computeZonedTimeToEpoch(year, month, day, hour, minute, timeZone);
    if (zonedCache.size >= ZONED_CACHE_LIMIT) zonedCache.clear();
    zonedCache.set(key, value);
  }
  return value;
}

function computeZonedTimeToEpoch(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  timeZone: string,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // Try both offsets around the wall time; keep the earliest instant that shows this wall time.
  const candidates = [offsetAt(wall - 86_400_000, timeZone), offsetAt(wall + 86_400_000, timeZone)];
  const matches = candidates
    .map((off) => wall - off)
    .filter((t) => {
      const p = localParts(t, timeZone);
      return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) === wall;
    })
    .sort((a, b) => a - b);
  if (matches[0] !== undefined) return matches[0];
  // The wall time falls in a gap: keep the offset from before it, which lands as far past the gap
  // as the wall time was into it (Temporal's "compatible" disambiguation).
  return wall - (candidates[0] as number);
}

function parseHm(hm: string): [number, number] {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hm);
  if (!m) throw new Error(`expected HH:MM, got "${hm}"`);
  return [Number(m[1]), Number(m[2])];
}

export interface WindowOccurrence {
  start: number;
  end: number;
}

const DAY = 86_400_000;

/** The occurrences of one window that start on the local calendar day `day` (a UTC midnight). */
function occurrencesOnDay(w: Window, day: number): WindowOccurrence | undefined {
  const d = new Date(day);
  const weekday = weekdays[d.getUTCDay()] as Weekday;
  if (!w.days.includes(weekday)) return undefined;
  const [sh, sm] = parseHm(w.start);
  const [eh, em] = parseHm(w.end);
  const crosses = eh * 60 + em <= sh * 60 + sm;
  const start = zonedTimeToEpoch(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), sh, sm, w.timezone);
  const endDay = new Date(day + (crosses ? DAY : 0));
  const end = zonedTimeToEpoch(
    endDay.getUTCFullYear(),
    endDay.getUTCMonth() + 1,
    endDay.getUTCDate(),
    eh,
    em,
    w.timezone,
  );
  return end > start ? { start, end } : undefined;
}

/** Local calendar days (as UTC midnights) from the day before `fromMs` in the window's zone. */
function firstLocalDay(w: Window, fromMs: number): number {
  const p = localParts(fromMs, w.timezone);
  return Date.UTC(p.year, p.month - 1, p.day) - DAY;
}

/** Every occurrence of the windows that starts within [fromMs - 1 day, toMs], sorted. */
export function occurrences(windows: readonly Window[], fromMs: number, toMs: number): WindowOccurrence[] {
  const out: WindowOccurrence[] = [];
  for (const w of windows) {
    for (let day = firstLocalDay(w, fromMs); day <= toMs + DAY; day += DAY) {
      const o = occurrencesOnDay(w, day);
      if (o && o.start <= toMs) out.push(o);
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** True when `atMs` lies inside one of the windows (start inclusive, end exclusive). */
export function isInWindow(windows: readonly Window[], atMs: number): boolean {
  return windows.some((w) => {
    const first = firstLocalDay(w, atMs);
    for (let day = first; day <= first + 2 * DAY; day += DAY) {
      const o = occurrencesOnDay(w, day);
      if (o && o.start <= atMs && atMs < o.end) return true;
    }
    return false;
  });
}

/** How far ahead the next window is searched. */
export const WINDOW_HORIZON_DAYS = 56;

/**
 * The first instant at or after `atMs` that lies inside a window: `atMs` itself when it already
 * does. Undefined when there are no windows (no constraint) or none within the horizon.
 */
export function nextWindowStart(windows: readonly Window[], atMs: number): number | undefined {
  if (windows.length === 0) return undefined;
  if (isInWindow(windows, atMs)) return atMs;
  let best: number | undefined;
  for (const w of windows) {
    const first = firstLocalDay(w, atMs);
    for (let day = first; day <= first + (WINDOW_HORIZON_DAYS + 1) * DAY; day += DAY) {
      const o = occurrencesOnDay(w, day);
      if (!o || o.start <= atMs) continue;
      if (best === undefined || o.start < best) best = o.start;
      break;
    }
  }
  return best !== undefined && best <= atMs + WINDOW_HORIZON_DAYS * DAY ? best : undefined;
}

/**
 * The first instant at or after `atMs` inside a window of every non-empty set (for example a
 * maintenance window that must also fall in business hours). Undefined if none within the horizon.
 */
export function nextInstantInAll(sets: readonly (readonly Window[])[], atMs: number): number | undefined {
  const active = sets.filter((s) => s.length > 0);
  if (active.length === 0) return atMs;
  let t = atMs;
  for (let i = 0; i < 200; i++) {
    let moved = false;
    for (const set of active) {
      const next = nextWindowStart(set, t);
      if (next === undefined) return undefined;
      if (next > t) {
        t = next;
        moved = true;
      }
    }
    if (!moved) return t;
    if (t > atMs + WINDOW_HORIZON_DAYS * DAY) return undefined;
  }
  return undefined;
}
