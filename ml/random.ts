/**
 * Deterministic pseudo-random numbers for everything the ML code randomises (splits, shuffles,
 * weight init, dropout masks, augmentation).
 *
 * Why our own generator instead of Math.random or tfjs's seeded ops: Math.random cannot be seeded,
 * and tfjs treats seed 0 as "unseeded" in some generators (randomNormal's `seed ? seed : Math.random()`).
 * Generating in plain JS also makes results identical across backends (cpu, wasm, tfjs-node).
 *
 * Generator: mulberry32 (32-bit state, period 2^32, good statistical quality for this use).
 * Independent streams are derived from one experiment seed with deriveSeed(seed, "purpose", ...),
 * so that e.g. changing the number of epochs does not change the weight initialisation.
 */

/** Throws unless `seed` is a non-negative safe integer (0 is a perfectly good seed here). */
export function assertSeed(seed: number, what = "seed"): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`${what} must be a non-negative integer, got ${String(seed)}`);
  }
}

/** splitmix32-style finaliser: spreads every input bit over the whole 32-bit output. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A 32-bit seed for one purpose, derived from an experiment seed and labels
 * (e.g. deriveSeed(42, "shuffle", epoch)). Different labels give unrelated streams.
 */
export function deriveSeed(seed: number, ...labels: Array<string | number>): number {
  assertSeed(seed);
  // Fold in the high bits too, so seeds above 2^32 are not silently aliased.
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ Math.floor(seed / 0x100000000));
  for (const label of labels) {
    const text = typeof label === "number" ? `#${label}` : label;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h = mix32(h ^ 0xff);
  }
  return h >>> 0;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    assertSeed(seed);
    this.state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer (mulberry32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Standard normal sample (Box-Muller; 1 - u keeps log() away from 0). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** In-place Fisher-Yates shuffle. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(array: T, rng: Rng): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/** A seeded permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffleInPlace(p, rng);
}
