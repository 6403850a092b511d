import type { Flags } from '../main';
export async function demo(_flags: Flags, out: (s: string) => void): Promise<number> {
  out('demo: coming next\n');
  return 0;
}
