/**
 * Seeded randomness for the sample-district generator.
 *
 * Every random draw is a pure function of (seed, purpose keys): a value never depends on how many
 * draws came before it in another file, so a file's bytes depend only on the seed and the file's
 * identity, never on generation order or on --through (decision 0100).
 *
 * - `hashKey(...)`: 32-bit hash of strings and integers (FNV-1a over strings, murmur3 finaliser).
 * - `u01(key, a, b)`: a uniform in [0, 1) from an integer key and two integers: the hot path
 *   (one per student and day), a few integer multiplications, no allocation.
 * - `Rng`: sfc32, a small fast PRNG for sequences of draws seeded by a hash.
 */

/** murmur3 32-bit finaliser: a bijective avalanche of a 32-bit integer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combine a running hash with one 32-bit integer. */
export function mix(h: number, v: number): number {
  let k = Math.imul(v | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  return h >>> 0;
}

function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Hash of a list of keys (strings or integers) into 32 bits. */
export function hashKey(...parts: Array<string | number>): number {
  let h = 0x9747b28c;
  for (const p of parts) {
    if (typeof p === 'number') {
      // integers up to 2^53: mix both halves
      h = mix(h, p >>> 0);
      h = mix(h, Math.floor(p / 4294967296) >>> 0);
    } else {
      h = mix(h, fnv1a(p));
    }
  }
  return fmix32(h ^ parts.length);
}

/** A uniform in [0, 1) from a key and two integers (hot path). */
export function u01(key: number, a: number, b = 0): number {
  let h = mix(key, a);
  h = mix(h, b);
  return fmix32(h) / 4294967296;
}

/** A 32-bit unsigned integer from a key and two integers. */
export function h32(key: number, a: number, b = 0): number {
  return fmix32(mix(mix(key, a), b));
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), 32-bit state words. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  static of(...parts: Array<string | number>): Rng {
    return new Rng(hashKey(...parts));
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  bool(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    const x = xs[Math.floor(this.next() * xs.length)];
    if (x === undefined) throw new Error('pick from an empty list');
    return x;
  }

  /** Pick by weights (need not sum to 1). */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let u = this.next() * total;
    for (const [v, w] of items) {
      u -= w;
      if (u < 0) return v;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty list');
    return last[0];
  }

  /** Standard normal (Box-Muller, one value per call). */
  normal(): number {
    let u = this.next();
    if (u < 1e-12) u = 1e-12;
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle of a copy. */
  shuffle<T>(xs: readonly T[]): T[] {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = out[i] as T;
      out[i] = out[j] as T;
      out[j] = t;
    }
    return out;
  }
}

/** Standard normal from a uniform in (0, 1): Acklam's rational approximation of the inverse CDF. */
const NA0 = -3.969683028665376e1, NA1 = 2.209460984245205e2, NA2 = -2.759285104469687e2, NA3 = 1.38357751867269e2, NA4 = -3.066479806614716e1, NA5 = 2.506628277459239;
const NB0 = -5.447609879822406e1, NB1 = 1.615858368580409e2, NB2 = -1.556989798598866e2, NB3 = 6.680131188771972e1, NB4 = -1.328068155288572e1;
const NC0 = -7.784894002430293e-3, NC1 = -3.223964580411365e-1, NC2 = -2.400758277161838, NC3 = -2.549732539343734, NC4 = 4.374664141464968, NC5 = 2.938163982698783;
const ND0 = 7.784695709041462e-3, ND1 = 3.224671290700398e-1, ND2 = 2.445134137142996, ND3 = 3.754408661907416;
export function normalInv(p: number): number {
  if (p <= 0) p = 1e-12;
  if (p >= 1) p = 1 - 1e-12;
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((NC0 * q + NC1) * q + NC2) * q + NC3) * q + NC4) * q + NC5) / ((((ND0 * q + ND1) * q + ND2) * q + ND3) * q + 1);
  }
  if (p > 1 - pl) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((NC0 * q + NC1) * q + NC2) * q + NC3) * q + NC4) * q + NC5) / ((((ND0 * q + ND1) * q + ND2) * q + ND3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((NA0 * r + NA1) * r + NA2) * r + NA3) * r + NA4) * r + NA5) * q) / (((((NB0 * r + NB1) * r + NB2) * r + NB3) * r + NB4) * r + 1);
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 via erf). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(z) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}
