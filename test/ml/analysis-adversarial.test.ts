import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { firstImagePerDigit, inputSpaceSettings, targetedAttack, untargetedAttack } from "../../ml/analysis/adversarial.ts";
import { inputImage } from "../../ml/analysis/pixels.ts";
import type { AdversarialClass, AdversarialPair, AdversarialSettings } from "../../ml/analysis/types.ts";
import type { DatasetSplit } from "../../ml/dataset.ts";
import { type TrainedFixture, trainedFixture } from "./trained-fixture.ts";

/**
 * 002's numbers (params.json's defaults): noise N(128, 1), step 0.05, 100 iterations, clamp 0..255,
 * beta 0.001. Fed raw to the core they are 002's literal code; through inputSpaceSettings they are
 * read on the 0..255 pixel scale, as the adversarial stage does.
 */
const STUDY: AdversarialSettings = { seed: 1, noiseMean: 128, noiseStd: 1, step: 0.05, iterations: 100, clampMin: 0, clampMax: 255, beta: 0.001 };

describe("adversarial attacks", () => {
  let fx: TrainedFixture;
  /** What the stage runs: 002's numbers on the pixel scale (mid-grey start, black..white). */
  let inRange: AdversarialSettings;
  let numTensors: number;
  /** The first test image of each digit, and the stage's two attacks on them (each run once, shared by the tests). */
  let shown: Array<{ digit: number; input: Float32Array }>;
  let untargeted: Promise<AdversarialClass[]> | undefined;
  let targeted: Promise<AdversarialPair[]> | undefined;
  const untargetedInRange = (): Promise<AdversarialClass[]> => (untargeted ??= untargetedAttack(fx.model, inRange));
  const targetedInRange = (): Promise<AdversarialPair[]> => (targeted ??= targetedAttack(fx.model, shown, inRange));

  before(async () => {
    // Like 002's simple networks: trained on unnormalized pixels / 255.
    // Three epochs: a one-epoch network's logits are too flat for 100 steps of 0.05 to reach every target.
    fx = await trainedFixture("simple", {}, { normalize: null }, 3);
    const norm = fx.dataset.header.normalize;
    inRange = inputSpaceSettings(STUDY, norm);
    const rows = firstImagePerDigit(fx.dataset.test);
    shown = rows.map((row, digit) => ({ digit, input: inputImage(fx.dataset.test.images, row) }));
    numTensors = tf.memory().numTensors;
  });
  after(() => fx.cleanup());

  it("002 literally (x ~ 128 fed to the model): one cost per iteration, rising at (almost) every step", async () => {
    const classes = await untargetedAttack(fx.model, STUDY);
    assert.deepEqual(
      classes.map((c) => c.target),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    for (const c of classes) {
      assert.equal(c.costs.length, STUDY.iterations);
      assert.equal(c.input.length, 784);
      const first = c.costs[0] as number;
      const last = c.costs.at(-1) as number;
      assert.ok(last > first, `class ${c.target}: cost ${first} -> ${last}`);
      const rising = c.costs.slice(1).filter((v, i) => v >= (c.costs[i] as number)).length;
      assert.ok(rising >= 0.9 * (STUDY.iterations - 1), `class ${c.target}: only ${rising} steps did not lower the cost`);
      for (const v of c.input) assert.ok(v >= STUDY.clampMin && v <= STUDY.clampMax, `pixel ${v}`);
    }
    // Why the literal reading does not flip this model's prediction (and the stage reads the numbers on the pixel scale): at pixel ~128 (about 40x white after
    // normalization) the logits are in the hundreds and far apart, while each step gains only
    // step * |grad|^2 ~ 0.015, so 100 steps close a gap of ~1.5. The ascent itself is correct.
  });

  it("untargeted: every class's run ends classified as that class", async () => {
    const classes = await untargetedInRange();
    for (const c of classes) {
      assert.equal(c.predicted, c.target, `target ${c.target} predicted ${c.predicted} (${c.confidence})`);
      assert.ok(c.confidence > 0.9, `target ${c.target}: confidence ${c.confidence}`);
      assert.ok((c.costs.at(-1) as number) > (c.costs[0] as number));
    }
  });

  it("targeted: each (shown, target) pair is classified as the target, pixels stay clamped", async () => {
    const pairs = await targetedInRange();
    const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    assert.deepEqual(
      pairs.map((p) => [p.shown, p.target]),
      digits.flatMap((d) => digits.filter((t) => t !== d).map((t) => [d, t])),
    );
    // Outputs are rounded to 4 decimals, so allow half a unit beyond the clamp.
    const eps = 5e-5;
    for (const p of pairs) {
      assert.equal(p.predicted, p.target, `shown ${p.shown} target ${p.target}: predicted ${p.predicted} (${p.confidence})`);
      for (const v of p.input) assert.ok(v >= inRange.clampMin - eps && v <= inRange.clampMax + eps, `pixel ${v}`);
    }
  });

  it("targeted: the image prior pulls the result toward the shown digit (002's beta * MSE starts near 16)", async (t) => {
    const mse = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
      let sum = 0;
      for (let i = 0; i < 784; i++) sum += ((a[i] as number) - (b[i] as number)) ** 2;
      return sum / 784;
    };
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] as number;
    // 002: X ~ 128 against an image in [0, 1], so 0.001 * MSE ≈ 16 at the start. Here: the mid-grey start.
    const grey = new Float32Array(784).fill(inRange.noiseMean);
    for (const { digit, input } of shown) {
      const start = inRange.beta * mse(grey, input);
      assert.ok(start > 10 && start < 25, `digit ${digit}: beta * MSE at the start is ${start}`);
    }
    const [classes, pairs] = await Promise.all([untargetedInRange(), targetedInRange()]);
    // Per shown digit: the targeted results' median distance to it against the non-targeted results' (same targets).
    const ratios = shown.map(({ digit, input }) => {
      const mine = pairs.filter((p) => p.shown === digit);
      const free = mine.map((p) => mse((classes[p.target] as AdversarialClass).input, input));
      return median(mine.map((p) => mse(p.input, input))) / median(free);
    });
    const closer = ratios.filter((r) => r < 0.7).length;
    t.diagnostic(`targeted / non-targeted median MSE to the shown digit, digits 0..9: ${ratios.map((r) => r.toFixed(2)).join(" ")}`);
    assert.ok(closer >= 8, `targeted / non-targeted median MSE to the shown digit, digits 0..9: ${ratios.map((r) => r.toFixed(2)).join(" ")}`);
  });

  it("is deterministic in the seed", async () => {
    const short = { ...STUDY, iterations: 3 };
    const a = await untargetedAttack(fx.model, short);
    const b = await untargetedAttack(fx.model, short);
    const c = await untargetedAttack(fx.model, { ...short, seed: 2 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a[0]?.input, c[0]?.input);
    assert.notDeepEqual(a[0]?.costs, c[0]?.costs);
  });

  it("stops on abort and rejects bad input", async () => {
    await assert.rejects(untargetedAttack(fx.model, { ...STUDY, iterations: 100_000 }, { signal: AbortSignal.timeout(100) }), { name: "TimeoutError" });
    await assert.rejects(untargetedAttack(fx.model, { ...STUDY, iterations: 0 }), /iterations/);
    await assert.rejects(untargetedAttack(fx.model, { ...STUDY, clampMin: 1, clampMax: 0 }), /clampMin/);
    await assert.rejects(targetedAttack(fx.model, [{ digit: 3, input: new Float32Array(10) }], STUDY), /784/);
    await assert.rejects(targetedAttack(fx.model, [{ digit: 10, input: new Float32Array(784) }], STUDY), /digit 10/);
  });

  it("leaks no tensors", () => {
    assert.equal(tf.memory().numTensors, numTensors);
  });
});

describe("firstImagePerDigit", () => {
  const split = (labels: number[]): DatasetSplit => ({
    count: labels.length,
    images: new Float32Array(labels.length * 784),
    labels: Int32Array.from(labels),
    indices: Uint32Array.from(labels, (_, i) => i),
  });

  it("picks the first row of each digit", () => {
    assert.deepEqual(firstImagePerDigit(split([3, 0, 1, 3, 2, 4, 5, 6, 0, 7, 8, 9, 9])), [1, 2, 4, 0, 5, 6, 7, 9, 10, 11]);
  });

  it("names the missing digits", () => {
    assert.throws(() => firstImagePerDigit(split([0, 1, 2, 3, 4, 5, 6, 8, 8])), /digit 7, 9/);
  });
});

describe("inputSpaceSettings", () => {
  it("reads 002's numbers on the pixel scale and gives every normalization the same display-space ascent", () => {
    const raw = inputSpaceSettings(STUDY, null);
    // beta weighs the MSE of 0..255 pixel values: 255^2 times that of display-space pixels.
    assert.deepEqual([raw.noiseMean, raw.noiseStd, raw.clampMin, raw.clampMax, raw.step, raw.beta], [128 / 255, 1 / 255, 0, 1, 0.05, 0.001 * 255 * 255]);
    const norm = { mean: 0.1307, std: 0.3081 };
    const n = inputSpaceSettings(STUDY, norm);
    const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
    close(n.noiseMean, (128 / 255 - 0.1307) / 0.3081, "mid grey");
    close(n.clampMax, (1 - 0.1307) / 0.3081, "white");
    // A step g_x * step_x in input space moves display pixels by std * step_x * g_x = std^2 * step_x * g_p.
    close(n.step * norm.std * norm.std, STUDY.step, "step in display space");
    close(n.beta / (norm.std * norm.std), STUDY.beta * 255 * 255, "MSE weight in display space");
  });
});
