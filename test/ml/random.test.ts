import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng, deriveSeed, permutation } from "../../ml/random.ts";

const draw = (seed: number, n = 5): number[] => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.nextUint32());
};

test("the same seed gives the same stream; seed 0 is a real, distinct seed", () => {
  assert.deepEqual(draw(0), draw(0));
  assert.notDeepEqual(draw(0), draw(1));
  assert.ok(draw(0).some((v) => v !== 0));
});

test("deriveSeed separates purposes and epochs deterministically", () => {
  assert.equal(deriveSeed(42, "shuffle", 1), deriveSeed(42, "shuffle", 1));
  const seeds = new Set([
    deriveSeed(42, "shuffle", 1),
    deriveSeed(42, "shuffle", 2),
    deriveSeed(42, "dropout"),
    deriveSeed(43, "shuffle", 1),
    deriveSeed(0, "init"),
    deriveSeed(2 ** 32, "init"),
  ]);
  assert.equal(seeds.size, 6);
  assert.throws(() => deriveSeed(-1), /non-negative integer/);
  assert.throws(() => new Rng(1.5), /non-negative integer/);
});

test("uniform draws are in [0, 1) with a plausible mean; normals have mean 0, std 1", () => {
  const rng = new Rng(7);
  let sum = 0;
  let sumN = 0;
  let sumN2 = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    const z = rng.normal();
    sumN += z;
    sumN2 += z * z;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  assert.ok(Math.abs(sumN / n) < 0.02);
  assert.ok(Math.abs(Math.sqrt(sumN2 / n) - 1) < 0.02);
});

test("permutation is a seeded permutation of 0..n-1", () => {
  const p = permutation(1000, new Rng(3));
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(p, permutation(1000, new Rng(3)));
  assert.notDeepEqual(p, permutation(1000, new Rng(4)));
});
