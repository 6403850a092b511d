/** A seeded uniform generator (mulberry32): the same seed gives the same sequence on any machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box-Muller from a uniform generator. */
export function normals(uniform: () => number): () => number {
  return () => {
    const u = 1 - uniform();
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** Latencies of a service: log-normal around `medianMs` with spread `sigma`, rounded to 0.1 ms. */
export function latencies(n: number, medianMs: number, sigma: number, z: () => number): number[] {
  return Array.from({ length: n }, () => Math.round(medianMs * Math.exp(sigma * z()) * 10) / 10);
}
