import assert from "node:assert/strict";
import { test } from "node:test";
import { fillBatch, shiftImage } from "../../ml/batches.ts";
import { Rng } from "../../ml/random.ts";

const at = (img: Float32Array, y: number, x: number, offset = 0): number => img[offset + y * 28 + x] as number;

test("shiftImage moves content by (dx, dy) and fills the uncovered border with the background", () => {
  const src = new Float32Array(784);
  src[10 * 28 + 12] = 1; // pixel at row 10, column 12
  src[0] = 0.5; // top-left corner: shifted out when dx = 2
  const dst = new Float32Array(784);
  shiftImage(src, 0, dst, 0, 2, -1, -0.5);
  assert.equal(at(dst, 9, 14), 1);
  assert.equal(dst.filter((v) => v === 1).length, 1);
  // Columns 0-1 and the last row were shifted in: background.
  assert.equal(at(dst, 5, 0), -0.5);
  assert.equal(at(dst, 5, 1), -0.5);
  assert.equal(at(dst, 27, 20), -0.5);
  assert.equal(dst.filter((v) => v === 0.5).length, 0);
  // No shift is a copy.
  shiftImage(src, 0, dst, 0, 0, 0, -0.5);
  assert.deepEqual(dst, src);
});

test("fillBatch copies the selected images and labels; shifts are seeded", () => {
  const images = new Float32Array(3 * 784).map((_, i) => Math.floor(i / 784) + 1);
  const labels = Int32Array.from([7, 8, 9]);
  const order = Uint32Array.from([2, 0, 1]);
  const out = new Float32Array(2 * 784);
  const outLabels = new Int32Array(2);
  assert.equal(fillBatch(images, labels, order, 0, 2, out, outLabels), 2);
  assert.deepEqual(Array.from(outLabels), [9, 7]);
  assert.equal(out[0], 3);
  assert.equal(out[784], 1);

  const shifted = (seed: number): Float32Array => {
    const o = new Float32Array(2 * 784);
    fillBatch(images, labels, order, 0, 2, o, new Int32Array(2), { max: 3, rng: new Rng(seed), background: 0 });
    return o;
  };
  assert.deepEqual(shifted(1), shifted(1));
  assert.notDeepEqual(shifted(1), shifted(2));
});
