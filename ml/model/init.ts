/**
 * Weight initialisation as PyTorch does it, generated in plain JS from our seeded PRNG (so the
 * initial weights are the same on every backend and no tfjs "seed 0 = unseeded" trap applies).
 *
 *   pytorch         torch.nn.Conv2d / Linear reset_parameters(): kaiming_uniform_(a=sqrt(5)),
 *                   i.e. gain sqrt(2 / (1 + 5)) * sqrt(3 / fan_in) = U(+-1/sqrt(fan_in)).
 *   he-normal       kaiming_normal_(nonlinearity="relu", mode="fan_in"): N(0, 2 / fan_in) (not truncated).
 *   xavier-uniform  xavier_uniform_: U(+-sqrt(6 / (fan_in + fan_out))).
 *
 * Biases always keep torch's default U(+-1/sqrt(fan_in)): the studies that change the init
 * (000 He, 003 Xavier) only re-initialise `.weight`.
 * fan_in = in_channels * kh * kw (conv) or in_features (linear); fan_out = out_channels * kh * kw or out_features.
 */
import type { WeightInit } from "../config.ts";
import type { Rng } from "../random.ts";

export interface Fans {
  fanIn: number;
  fanOut: number;
}

export function initWeights(scheme: WeightInit, size: number, fans: Fans, rng: Rng): Float32Array {
  const out = new Float32Array(size);
  switch (scheme) {
    case "pytorch": {
      const bound = 1 / Math.sqrt(fans.fanIn);
      for (let i = 0; i < size; i++) out[i] = rng.uniform(-bound, bound);
      break;
    }
    case "he-normal": {
      const std = Math.sqrt(2 / fans.fanIn);
      for (let i = 0; i < size; i++) out[i] = std * rng.normal();
      break;
    }
    case "xavier-uniform": {
      const bound = Math.sqrt(6 / (fans.fanIn + fans.fanOut));
      for (let i = 0; i < size; i++) out[i] = rng.uniform(-bound, bound);
      break;
    }
    default:
      throw new Error(`unknown weight init "${String(scheme)}": use pytorch, he-normal or xavier-uniform`);
  }
  return out;
}

/** torch's default bias init for Conv2d and Linear. */
export function initBias(size: number, fanIn: number, rng: Rng): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}
