/**
 * The shapes of one experiment's settings, shared by the params schema (stages/params-schema.ts),
 * the stages and the ML code. Plain types (and one default): importing this file loads nothing.
 */

export type Architecture = "cnn9" | "conv1" | "simple" | "lenet" | "textbook" | "textbook-plus" | "textbook-hints";
export type Activation = "relu" | "sigmoid";
/** pytorch = kaiming-uniform a=√5 weights with uniform ±1/√fan_in bias (torch.nn defaults). */
export type WeightInit = "pytorch" | "he-normal" | "xavier-uniform";
export type OptimizerName = "sgd" | "rmsprop" | "adam";
export type LossName = "cross-entropy" | "log-softmax-nll";

export interface ModelConfig {
  arch: Architecture;
  /** BatchNorm where the architecture's study placed it (simple: after each conv and fc1, before ReLU; lenet: after each conv block's pool). */
  batchNorm: boolean;
  /** Dropout probability after fc1's activation; 0 = no dropout layer. 1 drops everything. */
  dropout: number;
  /** Activation after the conv layers (lenet-sigmoid swaps it); fully-connected layers keep ReLU. */
  convActivation: Activation;
  init: WeightInit;
  loss: LossName;
}

/**
 * How the learning rate moves over training. "constant" (the default: what every study did);
 * "cosine": torch's CosineAnnealingLR stepped after every batch over the whole run, from `lr`
 * down to 0: lr_t = lr · (1 + cos(π t / T)) / 2 for step t of T.
 */
export type LearningRateSchedule = "constant" | "cosine";

export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  /** SGD only: torch.optim.SGD momentum (0 = plain SGD). */
  momentum: number;
  /** Absent: "constant". */
  schedule?: LearningRateSchedule;
}

export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  seed: number;
  /** Random shifts of up to this many pixels per training image (0 = no augmentation). */
  augmentShift: number;
  /**
   * Which epoch's weights the run keeps. Absent or "last": the weights after the last epoch (every
   * study). "best-validation-accuracy": the epoch with the highest validation accuracy (the earliest
   * on a tie) — model selection on the validation split, never on the test set.
   */
  selectEpoch?: "last" | "best-validation-accuracy";
}

/**
 * How BatchNorm normalises when a network is evaluated. "running-statistics": with the running
 * mean and variance, as PyTorch's net.eval() does (the usual way). "batch-statistics": each batch
 * with its own statistics, as a network evaluated in training mode — 002's loop never calls
 * net.eval(), so its validation and test numbers were measured this way over its loaders' batches
 * of 64. Networks without BatchNorm give the same numbers either way.
 */
export type BatchNormEvaluation = "running-statistics" | "batch-statistics";

/** An experiment's declared evaluation: how BatchNorm evaluates and what is evaluated after each epoch. */
export interface EvaluationConfig {
  batchNorm: BatchNormEvaluation;
  /**
   * Images per batch in "batch-statistics" mode, where the numbers depend on it (002: 64); null in
   * "running-statistics" mode, where batching changes speed only (`evaluate.batchSize`).
   */
  batchSize: number | null;
  /**
   * Also evaluate on the test set after every epoch (as 003's loop does), recorded in history.json
   * beside the training and validation numbers. Costs one pass over the test set per epoch.
   */
  testEachEpoch: boolean;
}

/** An experiment that declares no evaluation section: eval mode, no per-epoch test pass. */
export const DEFAULT_EVALUATION: EvaluationConfig = { batchNorm: "running-statistics", batchSize: null, testEachEpoch: false };

export interface Normalization {
  mean: number;
  std: number;
}

/** One distinct data preparation; experiments that name the same dataset share its artifact. */
export interface DatasetConfig {
  /** null = raw pixels scaled to [0, 1]. Otherwise (x/255 - mean) / std. */
  normalize: Normalization | null;
  /** Hold out this many training images (seeded) as a validation split; null = no split. */
  validation: { size: number; seed: number } | null;
  /** Keep only the first N (after a seeded shuffle) training / test images; null = all. */
  trainSubset: number | null;
  testSubset: number | null;
}
