/**
 * The layer summary of a trained model, from its saved topology (no tfjs needed): per layer the
 * output shape and parameters, and 002's split of parameters and neurons into conv / fc.
 */
import type { LayerSummary } from "../models.ts";

export interface LayerSummaryResult {
  kind: "layer-summary";
  arch: string;
  batchNorm: boolean;
  layers: LayerSummary[];
  totalParams: number;
  convParams: number;
  fcParams: number;
  /** BatchNorm gamma / beta: neither conv nor fc in 002's split. */
  otherParams: number;
  convNeurons: number;
  fcNeurons: number;
}

export function summarizeLayers(arch: string, batchNorm: boolean, layers: readonly LayerSummary[]): LayerSummaryResult {
  const sum = (pick: (layer: LayerSummary) => number): number => layers.reduce((total, layer) => total + pick(layer), 0);
  return {
    kind: "layer-summary",
    arch,
    batchNorm,
    layers: layers.map((layer) => ({ ...layer, outputShape: [...layer.outputShape] })),
    totalParams: sum((layer) => layer.params),
    convParams: sum((layer) => (layer.kind === "conv" ? layer.params : 0)),
    fcParams: sum((layer) => (layer.kind === "fc" ? layer.params : 0)),
    otherParams: sum((layer) => (layer.kind === "other" ? layer.params : 0)),
    convNeurons: sum((layer) => (layer.kind === "conv" ? layer.neurons : 0)),
    fcNeurons: sum((layer) => (layer.kind === "fc" ? layer.neurons : 0)),
  };
}
