import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { type OcclusionOptions, occlusionSensitivity } from "../../ml/analysis/occlusion.ts";
import { inputImage } from "../../ml/analysis/pixels.ts";
import type { OcclusionResult } from "../../ml/analysis/types.ts";
import { MNIST_IMAGE_WIDTH } from "../../ml/mnist-files.ts";
import { type TrainedFixture, trainedFixture } from "./trained-fixture.ts";

describe("occlusionSensitivity", () => {
  let fx: TrainedFixture;
  // Black patches (fillPixel 0 = the MNIST background), so a patch over background changes nothing.
  let black: OcclusionResult;
  const rows = [0, 1, 2];
  const patchSizes = [3, 14];

  before(async () => {
    fx = await trainedFixture();
    black = await occlusionSensitivity(fx.model, fx.dataset.test, fx.dataset.header.normalize, { rows, patchSizes, stride: 1, fillPixel: 0 });
  });
  after(() => fx.cleanup());

  it("has one map per patch size with side^2 probabilities in [0, 1]", () => {
    assert.equal(black.kind, "occlusion");
    assert.equal(black.fill.pixel, 0);
    // The fill is fed through a Float32Array, where it is exactly the dataset's black pixel.
    assert.equal(Math.fround(black.fill.input), fx.dataset.background);
    assert.deepEqual(
      black.items.map((i) => i.row),
      rows,
    );
    for (const item of black.items) {
      assert.equal(item.label, fx.dataset.test.labels[item.row]);
      assert.equal(item.pixels.length, 784);
      assert.deepEqual(
        item.maps.map((m) => [m.patchSize, m.side, m.probabilities.length]),
        [
          [3, 26, 26 * 26],
          [14, 15, 15 * 15],
        ],
      );
      for (const map of item.maps) {
        for (const p of map.probabilities) assert.ok(p >= 0 && p <= 1, `probability ${p}`);
        assert.equal(map.min, Math.min(...map.probabilities));
      }
    }
  });

  it("leaves P(true class) unchanged where the patch covers only background", () => {
    const test = fx.dataset.test;
    let checked = 0;
    for (const item of black.items) {
      const image = inputImage(test.images, item.row);
      for (const map of item.maps) {
        const s = map.patchSize;
        for (let r = 0; r < map.side; r++) {
          for (let c = 0; c < map.side; c++) {
            let background = true;
            for (let y = r; y < r + s && background; y++) {
              for (let x = c; x < c + s; x++) if (image[y * MNIST_IMAGE_WIDTH + x] !== fx.dataset.background) background = false;
            }
            if (!background) continue;
            checked++;
            const p = map.probabilities[r * map.side + c] as number;
            assert.ok(Math.abs(p - item.trueProbability) <= 1e-6, `row ${item.row} size ${s} at (${r}, ${c}): ${p} vs ${item.trueProbability}`);
          }
        }
      }
    }
    // MNIST digits sit in a 20x20 box, so there are many such positions (also for some 14 patches).
    assert.ok(checked > 500, `only ${checked} all-background positions`);
  });

  it("a 14-pixel patch over the digit lowers P(true class)", () => {
    const drops = black.items.map((item) => item.trueProbability - (item.maps[1]?.min ?? 1));
    assert.ok(
      drops.some((d) => d > 0.2),
      `largest drops ${drops.join(", ")}`,
    );
  });

  it("does not depend on the batch size and leaks no tensors", async () => {
    const options: OcclusionOptions = { rows: [3], patchSizes: [5], stride: 2, fillPixel: 0.5 };
    const before = tf.memory().numTensors;
    const small = await occlusionSensitivity(fx.model, fx.dataset.test, fx.dataset.header.normalize, { ...options, batchSize: 7 });
    const large = await occlusionSensitivity(fx.model, fx.dataset.test, fx.dataset.header.normalize, { ...options, batchSize: 256 });
    assert.equal(tf.memory().numTensors, before);
    const a = small.items[0]?.maps[0];
    const b = large.items[0]?.maps[0];
    assert.ok(a && b);
    assert.equal(a.side, 12);
    assert.equal(b.probabilities.length, 144);
    a.probabilities.forEach((p, i) => assert.ok(Math.abs(p - (b.probabilities[i] as number)) <= 1e-6, `position ${i}: ${p} vs ${b.probabilities[i]}`));
    const norm = fx.dataset.header.normalize;
    assert.ok(norm);
    assert.equal(small.fill.input, (0.5 - norm.mean) / norm.std);
  });

  it("rejects bad options, naming the option", async () => {
    const ok: OcclusionOptions = { rows: [0], patchSizes: [3], stride: 1, fillPixel: 0.5 };
    const cases: Array<[Partial<OcclusionOptions>, RegExp]> = [
      [{ patchSizes: [0] }, /patchSizes/],
      [{ patchSizes: [29] }, /patchSizes/],
      [{ patchSizes: [2.5] }, /patchSizes/],
      [{ stride: 0 }, /stride/],
      [{ stride: 1.5 }, /stride/],
      [{ rows: [fx.dataset.test.count] }, /rows/],
      [{ rows: [-1] }, /rows/],
      [{ rows: [] }, /rows/],
      [{ fillPixel: 1.5 }, /fillPixel/],
      [{ fillPixel: Number.NaN }, /fillPixel/],
      [{ batchSize: 0 }, /batchSize/],
    ];
    for (const [bad, message] of cases) {
      await assert.rejects(occlusionSensitivity(fx.model, fx.dataset.test, null, { ...ok, ...bad }), message, JSON.stringify(bad));
    }
  });
});

describe("occlusion maps registered to the 28×28 digit", () => {
  it("places each cell over the pixels its patch was centred on, with a margin where no centre falls", async () => {
    const { registeredMap, presentOcclusion } = await import("../../presentation/charts/analysis/occlusion.ts");
    // A 14×14 patch at stride 1: 15×15 positions, centres from pixel 7 (between 6 and 7) to 21; cell value = its index.
    const map = { patchSize: 14, side: 15, probabilities: Array.from({ length: 225 }, (_, i) => i / 225), min: 0 };
    const { values, side } = registeredMap(map, 1);
    assert.equal(side, 56, "half-pixel grid of the 28×28 digit");
    const at = (pixelY: number, pixelX: number): number => values[Math.round(pixelY * 2) * side + Math.round(pixelX * 2)]!;
    // Half pixel (13, 13) is pixel 6.5..7: the first patch's centre. Pixel 6.0..6.5 is margin.
    const cell = (index: number): number => Math.fround(map.probabilities[index]!);
    assert.equal(at(6.5, 6.5), cell(0));
    assert.ok(Number.isNaN(at(6, 6)), "margin before the first centre");
    assert.equal(at(21, 21), cell(224), "the last centre, pixel 21..21.5");
    assert.ok(Number.isNaN(at(21.5, 21.5)), "margin after the last centre");
    assert.equal(at(10.5, 7.5), cell(4 * 15 + 1), "row 4, column 1");
    // A 1×1 patch covers every pixel: no margin.
    const one = registeredMap({ patchSize: 1, side: 28, probabilities: Array.from({ length: 784 }, () => 0.5), min: 0.5 }, 1);
    assert.ok(one.values.every((value) => value === 0.5));
    // In the chart every map tile is the digit's size, at the digit's column.
    const item = { row: 0, mnistIndex: 0, label: 7, predicted: 7, trueProbability: 0.9, confidence: 0.9, pixels: Array.from({ length: 784 }, () => 0), maps: [map] };
    const chart = presentOcclusion({ kind: "occlusion", stride: 1, fill: { pixel: 0.5, input: 0.5 }, items: [item as never] }, "x").charts[0]!;
    const images = (chart.spec as any).layer.filter((layer: any) => layer.mark.type === "image");
    assert.deepEqual(images.map((layer: any) => [layer.mark.width, layer.mark.height]), [[56, 56]], "digit and map tiles share one size");
    const xs = images[0].data.values.map((tile: { x: number }) => tile.x);
    assert.equal(new Set(xs).size, 1, "the map sits exactly under its digit");
  });
});
