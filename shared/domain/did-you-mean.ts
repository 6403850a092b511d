/**
 * The edit distance between two words (Levenshtein: insertions, deletions and substitutions each
 * cost 1), case-insensitive so that `bakeminutes` is one step from nothing but itself.
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitution = (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[y.length] as number;
}

/**
 * The known word closest to `word`, when it is close enough to be the word meant: at most a third
 * of its letters differ (two at least, so short words get a hint too). Ties go to the first
 * candidate, so callers list candidates in the order they document them.
 *
 * @example
 * didYouMean('bakeMinuts', ['bakeMinutes', 'rules']) // 'bakeMinutes'
 * didYouMean('colour', ['bakeMinutes'])              // undefined
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}
