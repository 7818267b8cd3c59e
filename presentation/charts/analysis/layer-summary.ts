import type { TopLevelSpec } from "vega-lite";
import { integer } from "../../report/markdown.ts";
import { CHART_CONFIG, TABLEAU10, VEGA_LITE_SCHEMA } from "../chart-style.ts";
import type { LayerSummaryResult } from "../../../ml/analysis/layer-summary.ts";
import type { AnalysisPresentation } from "../../../ml/analysis/stage-io.ts";

const KIND_LABEL = { conv: "convolutional", fc: "fully connected", other: "BatchNorm (γ, β)" } as const;

const percent = (part: number, whole: number): string => `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;

export function presentLayerSummary(result: LayerSummaryResult, experiment: string): AnalysisPresentation {
  const withParams = result.layers.filter((layer) => layer.params > 0);
  // Decades up to one past the largest layer, so its label fits inside the plot.
  const decades = Math.ceil(Math.log10(Math.max(10, ...withParams.map((layer) => layer.params))) + 0.5);
  const ticks = Array.from({ length: decades + 1 }, (_, power) => 10 ** power);
  const spec = {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: `${experiment}: parameters per layer`,
      subtitle: `${integer(result.totalParams)} trainable parameters (${result.arch}${result.batchNorm ? ", BatchNorm" : ""}); layers with parameters, output shape H×W×C; log scale`,
    },
    width: 420,
    height: { step: 22 },
    config: CHART_CONFIG,
    data: { values: withParams.map((layer) => ({ layer: `${layer.name} → ${layer.outputShape.join("×")}`, params: layer.params, kind: KIND_LABEL[layer.kind] })) },
    encoding: {
      y: { field: "layer", type: "nominal", sort: null, title: null },
      // Bars on a log scale need an explicit base: they start at 1 parameter.
      x: {
        field: "params",
        type: "quantitative",
        scale: { type: "log", domain: [1, ticks.at(-1)!] },
        axis: { values: ticks, format: "~s" },
        title: "trainable parameters (log scale)",
      },
      x2: { datum: 1 },
    },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          color: { field: "kind", type: "nominal", title: "counted as", legend: { orient: "bottom" }, scale: { domain: Object.values(KIND_LABEL), range: [TABLEAU10[0], TABLEAU10[1], TABLEAU10[9]] } },
          tooltip: [{ field: "layer" }, { field: "params", format: "," }],
        },
      },
      { mark: { type: "text", align: "left", dx: 4 }, encoding: { x2: null, text: { field: "params", type: "quantitative", format: "," } } },
    ],
  } as TopLevelSpec;
  const bn = result.otherParams > 0 ? `, BatchNorm γ/β ${integer(result.otherParams)}` : "";
  return {
    title: "Layer summary",
    method:
      "Output shape and trainable parameters per layer, read from the saved model, counted as PyTorch does (BatchNorm: γ and β; running statistics are buffers). " +
      "Neurons as in 002: channels × height × width of each conv layer's output, units of each fully-connected layer.",
    sentences: [
      `${integer(result.totalParams)} parameters: conv ${integer(result.convParams)} (${percent(result.convParams, result.totalParams)}), fully connected ${integer(result.fcParams)} (${percent(result.fcParams, result.totalParams)})${bn}.`,
      `Neurons: conv ${integer(result.convNeurons)}, fully connected ${integer(result.fcNeurons)}.`,
    ],
    charts: [{ name: `layer-summary-${experiment}`, title: `${experiment}: parameters per layer`, scope: "experiment", experiment, spec }],
    csv: result.layers.map((layer, index) => ({
      index: index + 1,
      layer: layer.name,
      type: layer.type,
      output_shape: layer.outputShape.join("x"),
      params: layer.params,
      neurons: layer.neurons,
      counted_as: layer.kind,
    })),
  };
}
