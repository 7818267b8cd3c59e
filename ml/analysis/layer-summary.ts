/**
 * The layer summary of a trained model, from its saved topology (no tfjs needed): per layer the
 * output shape and parameters, and 002's split of parameters and neurons into conv / fc.
 */
import { type ParameterSplit, splitParameters } from "../model/summary.ts";
import type { LayerSummary } from "../models.ts";

export interface LayerSummaryResult extends ParameterSplit {
  kind: "layer-summary";
  arch: string;
  batchNorm: boolean;
  layers: LayerSummary[];
}

export function summarizeLayers(arch: string, batchNorm: boolean, layers: readonly LayerSummary[]): LayerSummaryResult {
  return {
    kind: "layer-summary",
    arch,
    batchNorm,
    layers: layers.map((layer) => ({ ...layer, outputShape: [...layer.outputShape] })),
    ...splitParameters(layers),
  };
}
