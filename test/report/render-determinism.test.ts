/** A chart's bytes are a function of its spec alone: the same chart drawn twice in one process is identical (vega numbers gradients and clip paths per process). */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { TopLevelSpec } from "vega-lite";
import { renderSvg } from "../../presentation/charts/render.ts";

test("the same chart drawn twice in one process gives the same SVG bytes (gradient and clip ids reset)", async () => {
  const spec = {
    data: { values: [{ epoch: 1, loss: 0.4 }, { epoch: 2, loss: 0.2 }, { epoch: 3, loss: 0.1 }] },
    mark: { type: "area", clip: true, color: { gradient: "linear", x1: 1, y1: 1, x2: 1, y2: 0, stops: [{ offset: 0, color: "white" }, { offset: 1, color: "steelblue" }] } },
    encoding: { x: { field: "epoch", type: "quantitative", scale: { domain: [1, 2] } }, y: { field: "loss", type: "quantitative" } },
    width: 80,
    height: 60,
  } as TopLevelSpec;
  const first = await renderSvg(spec);
  const second = await renderSvg(spec);
  assert.match(first, /gradient_0/, "the chart has a gradient (so the counter matters)");
  assert.match(first, /clip-path/, "and a clip path");
  assert.equal(second, first);
});
