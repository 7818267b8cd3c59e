/** Charts of one experiment alone (cached per experiment): the test-set confusion matrix. */
import type { TopLevelSpec } from "vega-lite";
import type { EvaluationReport } from "../../ml/evaluate.ts";
import { CHART_CONFIG, VEGA_LITE_SCHEMA } from "./chart-style.ts";
import { percent } from "../report/format.ts";

/**
 * Rows = true digit, columns = predicted digit. Cells are coloured by the share of the true digit's
 * images (so classes of different sizes compare), on a square-root scale: on a linear one the
 * diagonal's ~99% would leave every confusion near-white. The numbers are image counts; zero cells
 * stay blank so the confusions stand out.
 */
export function confusionMatrixSpec(id: string, metrics: Pick<EvaluationReport, "confusionMatrix" | "count" | "accuracy">): TopLevelSpec {
  const values = metrics.confusionMatrix.flatMap((row, actual) => {
    const total = row.reduce((sum, count) => sum + count, 0);
    return row.map((count, predicted) => ({ actual, predicted, count, share: total === 0 ? 0 : (count / total) * 100 }));
  });
  const axis = { labelAngle: 0, labelFontSize: 11 };
  return {
    $schema: VEGA_LITE_SCHEMA,
    config: CHART_CONFIG,
    title: {
      text: `Confusion matrix: ${id}`,
      subtitle: [
        `Test set, ${metrics.count.toLocaleString("en-US")} images, accuracy ${percent(metrics.accuracy)}`,
        "Numbers: image counts · colour: share of the true digit's images",
      ],
    },
    data: { values },
    width: { step: 30 },
    height: { step: 30 },
    encoding: {
      x: { field: "predicted", type: "ordinal", title: "Predicted digit", axis: { ...axis, orient: "top" } },
      y: { field: "actual", type: "ordinal", title: "True digit", axis },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 1 },
        encoding: {
          color: {
            field: "share",
            type: "quantitative",
            title: "% of true digit",
            scale: { type: "sqrt", scheme: "blues", domain: [0, 100] },
            legend: { values: [0, 5, 25, 50, 100], gradientLength: 200 },
          },
        },
      },
      {
        transform: [{ filter: "datum.count > 0" }],
        mark: { type: "text", fontSize: 10 },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: { condition: { test: "datum.share >= 40", value: "white" }, value: "black" },
        },
      },
    ],
  };
}
