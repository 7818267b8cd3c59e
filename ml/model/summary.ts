/**
 * 002's split of a network's parameters and neurons into convolutional / fully-connected, from
 * the layer summaries alone (no tfjs): shared by MnistModel.summary() and the layer-summary
 * analysis, which reads it from a saved model.json.
 */
import type { LayerSummary } from "./layers.ts";

export interface ParameterSplit {
  totalParams: number;
  convParams: number;
  fcParams: number;
  /** BatchNorm gamma / beta: neither conv nor fc in 002's split. */
  otherParams: number;
  convNeurons: number;
  fcNeurons: number;
}

export function splitParameters(layers: readonly LayerSummary[]): ParameterSplit {
  const sum = (pick: (layer: LayerSummary) => number): number => layers.reduce((total, layer) => total + pick(layer), 0);
  return {
    totalParams: sum((layer) => layer.params),
    convParams: sum((layer) => (layer.kind === "conv" ? layer.params : 0)),
    fcParams: sum((layer) => (layer.kind === "fc" ? layer.params : 0)),
    otherParams: sum((layer) => (layer.kind === "other" ? layer.params : 0)),
    convNeurons: sum((layer) => (layer.kind === "conv" ? layer.neurons : 0)),
    fcNeurons: sum((layer) => (layer.kind === "fc" ? layer.neurons : 0)),
  };
}
