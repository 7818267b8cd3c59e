/**
 * The training loop: torch-style epochs over a seeded shuffle, one optimizer step per minibatch.
 *
 * Why a custom loop instead of model.fit: fit's shuffle uses unseeded Math.random, and we need
 * our own BatchNorm / dropout / optimizer semantics anyway. Everything random derives from
 * training.seed (see ml/random.ts): initial weights ("init"), the order of each epoch
 * ("shuffle", epoch), dropout masks ("dropout") and shifts ("augment"). The same seed, data and
 * backend therefore give identical metrics.
 *
 * Like torch's DataLoader (drop_last=False) the last, smaller batch of an epoch is used.
 * trainLoss / trainAccuracy are averaged over the epoch's images as the network was while it
 * trained (dropout active, weights changing), as 003 reports them. Validation after each epoch, and
 * the test pass after each epoch when `evaluation.testEachEpoch` asks for it (003 printed one), follow
 * the experiment's declared evaluation (ml/config.ts): eval mode, or BatchNorm with batch statistics
 * over the declared batches (002's loop).
 *
 * Two practices no study used, for our own attempt at 004's challenge: `optimizer.schedule` "cosine"
 * anneals the learning rate after every batch (torch's CosineAnnealingLR), and `training.selectEpoch`
 * "best-validation-accuracy" keeps the weights of the epoch that scored best on the validation split
 * (model selection; the test set is never looked at).
 */
import * as tf from "@tensorflow/tfjs";
import { fillBatch } from "./batches.ts";
import { DEFAULT_EVALUATION, type EvaluationConfig, type ModelConfig, type OptimizerConfig, type TrainingConfig } from "./config.ts";
import { type LabeledImages, runInference } from "./evaluate.ts";
import { assertLossName, meanLoss } from "./loss.ts";
import { MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH, MNIST_PIXELS } from "./mnist-files.ts";
import { type MnistModel, buildModel } from "./models.ts";
import { type TorchOptimizer, createOptimizer } from "./optimizers.ts";
import { Rng, assertSeed, deriveSeed, permutation } from "./random.ts";

export interface ExperimentSpec {
  model: ModelConfig;
  optimizer: OptimizerConfig;
  training: TrainingConfig;
  /** How validation (and the per-epoch test pass) evaluate; default DEFAULT_EVALUATION. */
  evaluation?: EvaluationConfig;
}

export interface TrainData {
  train: LabeledImages;
  validation?: LabeledImages | null;
  /** The test split: needed only when `evaluation.testEachEpoch` is set. */
  test?: LabeledImages | null;
  /** Normalized value of a black pixel, filled in by augmentShift (LoadedDataset.background). Default 0. */
  background?: number;
}

export interface TrainProgress {
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** 1-based batch just finished. */
  batch: number;
  batches: number;
  /** Mean training loss of this epoch so far. */
  loss: number;
  imagesPerSecond: number;
  /** Estimated seconds until training ends (validation passes not included). */
  etaSeconds: number;
}

/** What an epoch computed: a function of code, spec, data and backend, identical on every rerun. */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** After the epoch, on the test set (only with `evaluation.testEachEpoch`). */
  testLoss?: number;
  testAccuracy?: number;
}

/** How long an epoch took: a measurement of this run, different on every rerun. */
export interface EpochTiming {
  epoch: number;
  /** Wall time of the epoch, validation included. */
  seconds: number;
  /** The training part of the epoch (validation excluded). */
  trainSeconds: number;
  /** The validation pass after the epoch (0 without a validation set). */
  validationSeconds: number;
  /** The test pass after the epoch (0 without `evaluation.testEachEpoch`). */
  testSeconds: number;
  /** Training throughput (validation excluded). */
  imagesPerSecond: number;
}

export interface EpochRecord extends EpochMetrics, EpochTiming {}

export interface TrainResult {
  history: EpochRecord[];
  /** The trained model (evaluation mode by default); the caller disposes it. */
  model: MnistModel;
  /** The epoch whose weights `model` holds (1-based): the last, or the best by validation accuracy with `training.selectEpoch`. */
  selectedEpoch: number;
  /** Wall time from building the model to the end of the last epoch. */
  totalSeconds: number;
}

/**
 * `history.json` as the train stage writes it: content only (the backend and its versions are part
 * of the result's key). Timings are measurements, kept in the run record (ml/training-measurements.ts).
 */
export interface TrainedHistory {
  backend: string;
  versions: Record<string, string>;
  parameters: number;
  history: EpochMetrics[];
  /** The epoch whose weights were saved; absent in histories written before selection existed (= the last). */
  selectedEpoch?: number;
}

/** The deterministic part of a history: what a trained result may store as content. */
export function epochMetrics(record: EpochRecord): EpochMetrics {
  const { seconds: _seconds, trainSeconds: _train, validationSeconds: _validation, testSeconds: _test, imagesPerSecond: _rate, ...metrics } = record;
  return metrics;
}

export interface TrainOptions {
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
  /** Batch size of the validation and test passes in eval mode (no effect on results there). Default 500. */
  evalBatchSize?: number;
}

export async function trainExperiment(spec: ExperimentSpec, data: TrainData, opts: TrainOptions = {}): Promise<TrainResult> {
  const { epochs, batchSize, seed, augmentShift } = spec.training;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`training.epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`training.batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(augmentShift) || augmentShift < 0 || augmentShift >= MNIST_IMAGE_WIDTH) {
    throw new Error(`training.augmentShift must be an integer in 0..27, got ${augmentShift}`);
  }
  assertSeed(seed, "training.seed");
  assertLossName(spec.model.loss);
  const evaluation = spec.evaluation ?? DEFAULT_EVALUATION;
  if (evaluation.testEachEpoch && !data.test) throw new Error("evaluation.testEachEpoch is set, but no test split was given to train with");
  if (evaluation.batchNorm === "batch-statistics" && !(Number.isInteger(evaluation.batchSize) && (evaluation.batchSize ?? 0) >= 2)) {
    throw new Error(`evaluation.batchSize must be an integer of at least 2 with batch statistics, got ${evaluation.batchSize}`);
  }
  const evaluationOptions = {
    batchSize: evaluation.batchNorm === "batch-statistics" ? evaluation.batchSize! : (opts.evalBatchSize ?? 500),
    batchNorm: evaluation.batchNorm,
    loss: spec.model.loss,
    signal: opts.signal,
  };
  const train = data.train;
  if (train.count < 1 || train.images.length !== train.count * MNIST_PIXELS || train.labels.length !== train.count) {
    throw new Error(`training data: count ${train.count} does not match ${train.images.length / MNIST_PIXELS} images / ${train.labels.length} labels`);
  }

  const selectBest = spec.training.selectEpoch === "best-validation-accuracy";
  if (selectBest && !data.validation) throw new Error('training.selectEpoch "best-validation-accuracy" needs a validation split, and the data has none');
  const schedule = spec.optimizer.schedule ?? "constant";
  if (schedule !== "constant" && schedule !== "cosine") throw new Error(`optimizer.schedule must be "constant" or "cosine", got "${String(schedule)}"`);

  const started = performance.now();
  const model = buildModel(spec.model, seed);
  const optimizer = createOptimizer(spec.optimizer, model.trainableVariables());
  const variables = model.trainableVariables();
  const dropoutRng = new Rng(deriveSeed(seed, "dropout"));
  const shift = augmentShift > 0 ? { max: augmentShift, rng: new Rng(deriveSeed(seed, "augment")), background: data.background ?? 0 } : undefined;
  const batches = Math.ceil(train.count / batchSize);
  const xBuf = new Float32Array(batchSize * MNIST_PIXELS);
  const yBuf = new Int32Array(batchSize);
  const history: EpochRecord[] = [];
  const totalSteps = epochs * batches;
  let step = 0;
  let best: { epoch: number; accuracy: number; values: Float32Array[] } | null = null;

  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const epochStart = performance.now();
      const order = permutation(train.count, new Rng(deriveSeed(seed, "shuffle", epoch)));
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let b = 0; b < batches; b++) {
        opts.signal?.throwIfAborted();
        const start = b * batchSize;
        const n = fillBatch(train.images, train.labels, order, start, Math.min(start + batchSize, train.count), xBuf, yBuf, shift);
        if (schedule === "cosine") optimizer.setLearningRate(cosineLearningRate(spec.optimizer.lr, step, totalSteps));
        step++;
        const [loss, hits] = trainStep(model, optimizer, variables, xBuf, yBuf, n, dropoutRng);
        lossSum += loss * n;
        correct += hits;
        seen += n;
        if (opts.onProgress) {
          const elapsed = (performance.now() - epochStart) / 1000;
          const rate = seen / Math.max(elapsed, 1e-9);
          const remaining = (epochs - epoch) * train.count + (train.count - seen);
          opts.onProgress({ epoch, epochs, batch: b + 1, batches, loss: lossSum / seen, imagesPerSecond: rate, etaSeconds: remaining / rate });
        }
        // Yield so abort signals and progress rendering get a chance between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
      const trainSeconds = (performance.now() - epochStart) / 1000;
      const metrics: EpochMetrics = { epoch, trainLoss: lossSum / seen, trainAccuracy: correct / seen };
      const validationStart = performance.now();
      if (data.validation) {
        const val = await runInference(model, data.validation, evaluationOptions);
        metrics.valLoss = val.lossSum / data.validation.count;
        metrics.valAccuracy = val.correct / data.validation.count;
      }
      const testStart = performance.now();
      if (evaluation.testEachEpoch && data.test) {
        const test = await runInference(model, data.test, evaluationOptions);
        metrics.testLoss = test.lossSum / data.test.count;
        metrics.testAccuracy = test.correct / data.test.count;
      }
      if (selectBest && metrics.valAccuracy !== undefined && (best === null || metrics.valAccuracy > best.accuracy)) {
        // Every saved variable (BatchNorm's running statistics included), as the weights would be saved now.
        best = { epoch, accuracy: metrics.valAccuracy, values: model.allVariables.map((v) => Float32Array.from(v.variable.dataSync() as Float32Array)) };
      }
      const end = performance.now();
      history.push({
        ...metrics,
        seconds: (end - epochStart) / 1000,
        trainSeconds,
        validationSeconds: data.validation ? (testStart - validationStart) / 1000 : 0,
        testSeconds: evaluation.testEachEpoch ? (end - testStart) / 1000 : 0,
        imagesPerSecond: seen / trainSeconds,
      });
    }
    if (best !== null && best.epoch !== epochs) {
      const kept = best.values;
      tf.tidy(() => model.allVariables.forEach((v, index) => v.variable.assign(tf.tensor(kept[index]!, v.variable.shape, "float32"))));
    }
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
  return { history, model, selectedEpoch: best?.epoch ?? epochs, totalSeconds: (performance.now() - started) / 1000 };
}

/** torch's CosineAnnealingLR (eta_min 0) at step `step` of `total`: lr · (1 + cos(π · step / total)) / 2. */
export function cosineLearningRate(lr: number, step: number, total: number): number {
  return (lr * (1 + Math.cos((Math.PI * step) / total))) / 2;
}

/** One optimizer step on the first n images of the buffers; returns [mean loss, correct count]. */
function trainStep(
  model: MnistModel,
  optimizer: TorchOptimizer,
  variables: tf.Variable[],
  xBuf: Float32Array,
  yBuf: Int32Array,
  n: number,
  rng: Rng,
): [number, number] {
  const kept: { hits?: tf.Tensor } = {};
  const out = tf.tidy(() => {
    const x = tf.tensor4d(xBuf.subarray(0, n * MNIST_PIXELS), [n, MNIST_IMAGE_HEIGHT, MNIST_IMAGE_WIDTH, 1]);
    const y = tf.tensor1d(yBuf.subarray(0, n), "int32");
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(x, { training: true, rng });
      // Kept past the gradient scope; disposed below once read.
      kept.hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32")));
      return meanLoss(logits, y, model.config.loss);
    }, variables);
    optimizer.step(grads);
    if (!kept.hits) throw new Error("internal: training step produced no accuracy");
    return tf.stack([value, kept.hits]);
  });
  const [loss, correct] = out.dataSync() as Float32Array;
  out.dispose();
  kept.hits?.dispose();
  if (!Number.isFinite(loss)) {
    throw new Error(`training diverged: loss is ${loss} (arch ${model.config.arch}; try a smaller learning rate)`);
  }
  return [loss as number, correct as number];
}
