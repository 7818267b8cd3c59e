/**
 * Test-set metrics as plain JSON: accuracy, mean loss, per-class precision / recall / F1 /
 * support (sklearn's classification_report, as 002 prints it) and the 10x10 confusion matrix
 * (rows = true class, columns = predicted class, as sklearn's confusion_matrix).
 */
import * as tf from "@tensorflow/tfjs";
import type { BatchNormEvaluation, EvaluationConfig, LossName } from "./config.ts";
import { perExampleLoss } from "./loss.ts";
import { MNIST_CLASSES, MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH, MNIST_PIXELS } from "./mnist-files.ts";
import type { MnistModel } from "./models.ts";

export interface LabeledImages {
  count: number;
  /** count x 28 x 28 x 1, normalized as the model was trained. */
  images: Float32Array;
  labels: Int32Array;
}

export interface InferenceOptions {
  /**
   * Images per forward pass. Default 500. With running statistics (the default) it trades memory
   * for speed and results do not depend on it; with `batchNorm: "batch-statistics"` each pass is
   * one batch BatchNorm normalises with its own statistics, in data order (the last one smaller),
   * so it is part of the result.
   */
  batchSize?: number;
  /** How BatchNorm layers normalise (ml/config.ts). Default "running-statistics" (eval mode). */
  batchNorm?: BatchNormEvaluation;
  loss?: LossName;
  /** Also return the softmax probabilities (count x 10). */
  keepProbabilities?: boolean;
  signal?: AbortSignal;
}

export interface InferenceResult {
  predictions: Int32Array;
  /** Sum over examples of the loss (divide by count for the mean). */
  lossSum: number;
  correct: number;
  probabilities: Float32Array | null;
}

/** Evaluation-mode pass over a whole split, in batches. */
export async function runInference(model: MnistModel, data: LabeledImages, opts: InferenceOptions = {}): Promise<InferenceResult> {
  const batchSize = opts.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`inference batchSize must be a positive integer, got ${batchSize}`);
  checkData(data);
  const predictions = new Int32Array(data.count);
  const probabilities = opts.keepProbabilities ? new Float32Array(data.count * MNIST_CLASSES) : null;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    opts.signal?.throwIfAborted();
    const n = Math.min(batchSize, data.count - start);
    const [pred, loss, probs] = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(start * MNIST_PIXELS, (start + n) * MNIST_PIXELS), [
        n,
        MNIST_IMAGE_HEIGHT,
        MNIST_IMAGE_WIDTH,
        1,
      ]);
      const y = tf.tensor1d(data.labels.subarray(start, start + n), "int32");
      const logits = opts.batchNorm === "batch-statistics" ? model.forward(x, { training: false, rng: null, batchStatistics: true }) : model.predict(x);
      return [tf.argMax(logits, 1), tf.sum(perExampleLoss(logits, y, opts.loss)), probabilities ? tf.softmax(logits) : null] as const;
    });
    const p = pred.dataSync() as Int32Array;
    predictions.set(p, start);
    lossSum += (loss.dataSync() as Float32Array)[0] as number;
    if (probs && probabilities) probabilities.set(probs.dataSync() as Float32Array, start * MNIST_CLASSES);
    tf.dispose([pred, loss, probs].filter((t): t is tf.Tensor => t !== null));
    for (let i = 0; i < n; i++) if (p[i] === data.labels[start + i]) correct++;
    // Let timers and abort signals run between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { predictions, lossSum, correct, probabilities };
}

export interface ClassMetrics {
  label: number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface AverageMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  count: number;
  accuracy: number;
  perClass: ClassMetrics[];
  macroAvg: AverageMetrics;
  weightedAvg: AverageMetrics;
  /** confusionMatrix[true][predicted] = number of images. */
  confusionMatrix: number[][];
}

export interface EvaluationReport extends ClassificationReport {
  /** Mean loss per image (cross-entropy on logits). */
  loss: number;
}

/** Whether the network has BatchNorm layers: only then does the evaluation mode change its numbers. */
export function hasBatchNorm(model: MnistModel): boolean {
  return model.layers.some((layer) => layer.summary.type === "BatchNorm");
}

/** The headline numbers of an evaluation in the mode not declared (metrics.json `otherMode`). */
export interface OtherModeMetrics {
  batchNorm: BatchNormEvaluation;
  accuracy: number;
  loss: number;
  macroAvg: AverageMetrics;
  confusionMatrix: number[][];
}

/** metrics.json: the report in the declared mode, which mode that is, and the other mode's numbers where they differ. */
export interface EvaluationMetrics extends EvaluationReport {
  batchNorm: BatchNormEvaluation;
  /** The batch BatchNorm normalised over in "batch-statistics" mode; null in eval mode. */
  batchSize: number | null;
  /** Eval-mode numbers of a BatchNorm network evaluated with batch statistics. */
  otherMode?: OtherModeMetrics;
}

/**
 * The test report the experiment declares (`evaluation`, default eval mode), plus, for a network
 * with BatchNorm evaluated with batch statistics, the eval-mode numbers beside it.
 */
export async function evaluateInModes(
  model: MnistModel,
  data: LabeledImages,
  evaluation: EvaluationConfig | undefined,
  opts: Omit<InferenceOptions, "batchNorm" | "keepProbabilities"> = {},
): Promise<EvaluationMetrics> {
  if (evaluation?.batchNorm === "batch-statistics") {
    const report = await evaluateModel(model, data, { ...opts, batchNorm: "batch-statistics", batchSize: evaluation.batchSize ?? undefined });
    if (!hasBatchNorm(model)) return { ...report, batchNorm: "batch-statistics", batchSize: evaluation.batchSize };
    const running = await evaluateModel(model, data, { ...opts, batchNorm: "running-statistics" });
    return {
      ...report,
      batchNorm: "batch-statistics",
      batchSize: evaluation.batchSize,
      otherMode: { batchNorm: "running-statistics", accuracy: running.accuracy, loss: running.loss, macroAvg: running.macroAvg, confusionMatrix: running.confusionMatrix },
    };
  }
  return { ...(await evaluateModel(model, data, { ...opts, batchNorm: "running-statistics" })), batchNorm: "running-statistics", batchSize: null };
}

/** Accuracy, loss, classification report and confusion matrix of `model` on `data`. */
export async function evaluateModel(model: MnistModel, data: LabeledImages, opts: InferenceOptions = {}): Promise<EvaluationReport> {
  const result = await runInference(model, data, opts);
  return { ...classificationReport(data.labels, result.predictions), loss: result.lossSum / data.count };
}

/**
 * sklearn-compatible metrics from true and predicted labels. A class never predicted gets
 * precision 0 (sklearn's zero_division default, minus the warning); F1 is 0 when P + R = 0.
 */
export function classificationReport(labels: ArrayLike<number>, predictions: ArrayLike<number>, classes = MNIST_CLASSES): ClassificationReport {
  if (labels.length !== predictions.length) {
    throw new Error(`classificationReport: ${labels.length} labels but ${predictions.length} predictions`);
  }
  if (labels.length === 0) throw new Error("classificationReport: no examples");
  const confusionMatrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i] as number;
    const p = predictions[i] as number;
    const row = confusionMatrix[t];
    if (!row || p < 0 || p >= classes) throw new Error(`classificationReport: example ${i} has label ${t} / prediction ${p} outside 0..${classes - 1}`);
    row[p] = (row[p] as number) + 1;
    if (t === p) correct++;
  }
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < classes; c++) {
    const tp = confusionMatrix[c]?.[c] ?? 0;
    const support = (confusionMatrix[c] ?? []).reduce((a, b) => a + b, 0);
    const predicted = confusionMatrix.reduce((a, row) => a + (row[c] ?? 0), 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ label: c, precision, recall, f1, support });
  }
  const n = labels.length;
  const avg = (weight: (m: ClassMetrics) => number, total: number): AverageMetrics => ({
    precision: perClass.reduce((a, m) => a + weight(m) * m.precision, 0) / total,
    recall: perClass.reduce((a, m) => a + weight(m) * m.recall, 0) / total,
    f1: perClass.reduce((a, m) => a + weight(m) * m.f1, 0) / total,
    support: n,
  });
  return {
    count: n,
    accuracy: correct / n,
    perClass,
    macroAvg: avg(() => 1, classes),
    weightedAvg: avg((m) => m.support, n),
    confusionMatrix,
  };
}

function checkData(data: LabeledImages): void {
  if (data.images.length !== data.count * MNIST_PIXELS || data.labels.length !== data.count) {
    throw new Error(
      `image data: count ${data.count} but ${data.images.length / MNIST_PIXELS} images and ${data.labels.length} labels`,
    );
  }
  if (data.count === 0) throw new Error("image data: no images");
}
