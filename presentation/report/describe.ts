/** Short human labels for an experiment's settings, as the tables and sentences print them. */
import type { ModelConfig, OptimizerConfig, TrainingConfig } from "../../ml/config.ts";

const OPTIMIZER_NAMES: Record<string, string> = { sgd: "SGD", rmsprop: "RMSprop", adam: "Adam" };
const INIT_NAMES: Record<string, string> = { "he-normal": "He-normal init", "xavier-uniform": "Xavier-uniform init" };

/** "SGD + momentum 0.9" — the optimizer alone, as 002 names its runs. */
export function optimizerLabel(optimizer: OptimizerConfig): string {
  const name = OPTIMIZER_NAMES[optimizer.name] ?? optimizer.name;
  return optimizer.name === "sgd" && optimizer.momentum > 0 ? `${name} + momentum ${optimizer.momentum}` : name;
}

/** "Adam, lr 0.001" ("Adam, lr 0.002 cosine-annealed" with a schedule). */
export function optimizerDescription(optimizer: OptimizerConfig): string {
  return `${optimizerLabel(optimizer)}, lr ${optimizer.lr}${optimizer.schedule === "cosine" ? " cosine-annealed" : ""}`;
}

/**
 * What sets this model apart from its architecture's plain form: "BatchNorm, dropout 0.5". The loss
 * name is left out: log-softmax + NLL and cross-entropy on logits are the same function.
 */
export function variantLabel(model: ModelConfig, training?: TrainingConfig): string {
  const parts: string[] = [];
  if (model.batchNorm) parts.push("BatchNorm");
  if (model.dropout > 0) parts.push(`dropout ${model.dropout}`);
  if (model.convActivation !== "relu") parts.push(`${model.convActivation} after convs`);
  if (model.init !== "pytorch") parts.push(INIT_NAMES[model.init] ?? `${model.init} init`);
  if (training && training.augmentShift > 0) parts.push(`random shifts ±${training.augmentShift} px`);
  if (training?.selectEpoch === "best-validation-accuracy") parts.push("best epoch by validation accuracy");
  return parts.length === 0 ? "—" : parts.join(", ");
}
