/**
 * Token choice from one row of logits: a seeded PRNG, temperature (0 = greedy), top-k and top-p
 * (applied in that order, as vLLM does). Thresholds are found by sorting a scratch copy natively
 * (no comparator closures), so a token tied with the k-th/threshold value is kept too.
 * The returned log-prob is the model's own log-softmax of the chosen token (temperature 1, no
 * truncation), the quantity an importance-sampling ratio compares against.
 */

/** sfc32 seeded through splitmix32: small, fast, and the same stream on every platform. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    let s = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return (this.uint32() * 2 ** 21 + (this.uint32() >>> 11)) / 2 ** 53;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export interface TokenChoiceParams {
  temperature: number;
  topP?: number;
  topK?: number;
}

/** Scratch buffers for choosing tokens from rows of V logits; allocate once per sampling call. */
export class TokenChooser {
  private readonly probs: Float64Array; // (V)
  private readonly sorted: Float64Array; // (V)

  constructor(readonly vocabSize: number) {
    this.probs = new Float64Array(vocabSize);
    this.sorted = new Float64Array(vocabSize);
  }

  /** Picks a token from `logits[offset .. offset+V)`; returns it with its model log-prob. */
  choose(
    logits: Float32Array,
    offset: number,
    params: TokenChoiceParams,
    rng: Rng,
  ): { token: number; logprob: number } {
    const V = this.vocabSize;
    let max = -Infinity;
    let argmax = 0;
    for (let i = 0; i < V; i++) {
      const z = logits[offset + i];
      if (z > max) {
        max = z;
        argmax = i;
      }
    }
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(logits[offset + i] - max);
    const lse = max + Math.log(sum);
    const token = params.temperature <= 0 ? argmax : this.draw(logits, offset, max, params, rng);
    return { token, logprob: logits[offset + token] - lse };
  }

  private draw(logits: Float32Array, offset: number, max: number, params: TokenChoiceParams, rng: Rng): number {
    const V = this.vocabSize;
    const p = this.probs;
    const invT = 1 / params.temperature;
    // 1. Temperature-scaled, unnormalised probabilities.
    for (let i = 0; i < V; i++) p[i] = Math.exp((logits[offset + i] - max) * invT);
    // 2. top-k: zero everything below the k-th largest probability.
    const k = params.topK ?? -1;
    if (k > 0 && k < V) {
      this.sorted.set(p);
      this.sorted.sort();
      const kth = this.sorted[V - k];
      for (let i = 0; i < V; i++) if (p[i] < kth) p[i] = 0;
    }
    // 3. top-p: keep the most probable tokens until their mass reaches topP.
    const topP = params.topP ?? 1;
    if (topP < 1) {
      let total = 0;
      for (let i = 0; i < V; i++) total += p[i];
      this.sorted.set(p);
      this.sorted.sort();
      let cum = 0;
      let threshold = this.sorted[V - 1];
      for (let j = V - 1; j >= 0; j--) {
        cum += this.sorted[j];
        threshold = this.sorted[j];
        if (cum >= topP * total) break;
      }
      for (let i = 0; i < V; i++) if (p[i] < threshold) p[i] = 0;
    }
    // 4. Inverse-CDF draw over the kept mass.
    let total = 0;
    for (let i = 0; i < V; i++) total += p[i];
    const u = rng.uniform() * total;
    let cum = 0;
    let last = 0;
    for (let i = 0; i < V; i++) {
      if (p[i] === 0) continue;
      cum += p[i];
      last = i;
      if (cum > u) return i;
    }
    return last;
  }
}
