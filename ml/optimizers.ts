/**
 * SGD (+momentum), RMSprop and Adam with exactly torch.optim's update rules and defaults.
 *
 * Why not tf.train.*: tf.train.rmsprop adds epsilon INSIDE the square root (sqrt(v + eps)) while
 * torch adds it outside (sqrt(v) + eps), which matters early in training when v is tiny; tfjs's
 * momentum optimizer and Adam also differ in small ways (epsilon placement, bias-correction form).
 * These classes are small enough to check by hand (test/ml/optimizers.test.ts does).
 *
 *   SGD       buf = momentum * buf + g  (buf = g on the first step);  p -= lr * buf   (momentum 0: p -= lr * g)
 *   RMSprop   v = alpha * v + (1 - alpha) * g^2;  p -= lr * g / (sqrt(v) + eps)        alpha 0.99, eps 1e-8
 *   Adam      m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g^2;  t += 1
 *             p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)          b1 0.9, b2 0.999, eps 1e-8
 * No weight decay, dampening, nesterov, centered or amsgrad: the studies use none.
 *
 * Where the backend has a fused update kernel (wasm: ml/wasm/optimizer-updates.ts), one kernel
 * call does a parameter's whole update with the same f32 operations in the same order, so the
 * result is bit for bit that of the tensor formulation written out below.
 */
import * as tf from "@tensorflow/tfjs";
import type { OptimizerConfig, OptimizerName } from "./config.ts";
import type { FusedUpdateKernel } from "./wasm/optimizer-updates.ts";

export interface TorchOptimizer {
  readonly name: OptimizerName;
  /** Apply one update. `grads` is keyed by tfjs variable name (as tf.variableGrads returns it). */
  step(grads: tf.NamedTensorMap): void;
  /** The learning rate of the following steps (a schedule's job, as torch's lr_scheduler sets param_groups' lr). */
  setLearningRate(lr: number): void;
  /** Free the optimizer state (momentum buffers, moment estimates). */
  dispose(): void;
}

export const RMSPROP_ALPHA = 0.99;
export const RMSPROP_EPS = 1e-8;
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPS = 1e-8;

export function createOptimizer(config: OptimizerConfig, params: tf.Variable[]): TorchOptimizer {
  if (!(config.lr > 0) || !Number.isFinite(config.lr)) throw new Error(`optimizer lr must be a positive number, got ${config.lr}`);
  switch (config.name) {
    case "sgd":
      if (!(config.momentum >= 0 && config.momentum < 1)) {
        throw new Error(`optimizer sgd: momentum must be in [0, 1), got ${config.momentum}`);
      }
      return new Sgd(params, config.lr, config.momentum);
    case "rmsprop":
      return new RmsProp(params, config.lr);
    case "adam":
      return new Adam(params, config.lr);
    default:
      throw new Error(`unknown optimizer "${String(config.name)}": use sgd, rmsprop or adam`);
  }
}

/** Per-parameter state slots, created (as zeros) on first use. */
abstract class Base implements TorchOptimizer {
  abstract readonly name: OptimizerName;
  private readonly state = new Map<string, tf.Variable[]>();

  constructor(
    protected readonly params: tf.Variable[],
    protected lr: number,
  ) {}

  setLearningRate(lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`learning rate must be a finite number >= 0, got ${lr}`);
    this.lr = lr;
  }

  protected slots(p: tf.Variable, count: number): tf.Variable[] {
    let s = this.state.get(p.name);
    if (!s) {
      s = Array.from({ length: count }, () => {
        const zeros = tf.zerosLike(p);
        const slot = tf.variable(zeros, false);
        zeros.dispose(); // the variable keeps its own reference to the data
        return slot;
      });
      this.state.set(p.name, s);
    }
    return s;
  }

  step(grads: tf.NamedTensorMap): void {
    this.beforeStep();
    tf.tidy(() => {
      for (const p of this.params) {
        const g = grads[p.name];
        // Like torch: a parameter without a gradient is left alone.
        if (g !== undefined) this.update(p, g);
      }
    });
  }

  protected beforeStep(): void {}
  protected abstract update(p: tf.Variable, g: tf.Tensor): void;

  dispose(): void {
    for (const slots of this.state.values()) for (const v of slots) v.dispose();
    this.state.clear();
  }
}

/** The updated [parameter, ...slots] from a fused kernel, or undefined if the backend has none. */
function fusedUpdate(name: FusedUpdateKernel, inputs: Record<string, tf.Tensor>, attrs: Record<string, number>): tf.Tensor[] | undefined {
  if (tf.getKernel(name, tf.getBackend()) === undefined) return undefined;
  return tf.engine().runKernel(name, inputs, attrs) as unknown as tf.Tensor[];
}

class Sgd extends Base {
  readonly name = "sgd" as const;
  constructor(
    params: tf.Variable[],
    lr: number,
    private readonly momentum: number,
  ) {
    super(params, lr);
  }

  protected update(p: tf.Variable, g: tf.Tensor): void {
    if (this.momentum === 0) {
      const [fusedP] = fusedUpdate("SgdUpdate", { p, g }, { lr: this.lr }) ?? [];
      p.assign(fusedP ?? tf.sub(p, tf.mul(g, this.lr)));
      return;
    }
    // buf starts at 0, so the first step gives buf = g, as torch's clone(grad).
    const [buf] = this.slots(p, 1) as [tf.Variable];
    const fused = fusedUpdate("SgdMomentumUpdate", { p, g, buf }, { momentum: this.momentum, lr: this.lr });
    if (fused !== undefined) {
      buf.assign(fused[1]!);
      p.assign(fused[0]!);
      return;
    }
    buf.assign(tf.add(tf.mul(buf, this.momentum), g));
    p.assign(tf.sub(p, tf.mul(buf, this.lr)));
  }
}

class RmsProp extends Base {
  readonly name = "rmsprop" as const;
  constructor(params: tf.Variable[], lr: number) {
    super(params, lr);
  }

  protected update(p: tf.Variable, g: tf.Tensor): void {
    const [v] = this.slots(p, 1) as [tf.Variable];
    const fused = fusedUpdate("RmspropUpdate", { p, g, v }, { alpha: RMSPROP_ALPHA, oneMinusAlpha: 1 - RMSPROP_ALPHA, lr: this.lr, eps: RMSPROP_EPS });
    if (fused !== undefined) {
      v.assign(fused[1]!);
      p.assign(fused[0]!);
      return;
    }
    v.assign(tf.add(tf.mul(v, RMSPROP_ALPHA), tf.mul(tf.square(g), 1 - RMSPROP_ALPHA)));
    p.assign(tf.sub(p, tf.div(tf.mul(g, this.lr), tf.add(tf.sqrt(v), RMSPROP_EPS))));
  }
}

class Adam extends Base {
  readonly name = "adam" as const;
  private t = 0;
  constructor(params: tf.Variable[], lr: number) {
    super(params, lr);
  }

  protected override beforeStep(): void {
    this.t += 1;
  }

  protected update(p: tf.Variable, g: tf.Tensor): void {
    const [m, v] = this.slots(p, 2) as [tf.Variable, tf.Variable];
    const stepSize = this.lr / (1 - ADAM_BETA1 ** this.t);
    const sqrtBias2 = Math.sqrt(1 - ADAM_BETA2 ** this.t);
    const fused = fusedUpdate("AdamUpdate", { p, g, m, v }, {
      beta1: ADAM_BETA1, oneMinusBeta1: 1 - ADAM_BETA1, beta2: ADAM_BETA2, oneMinusBeta2: 1 - ADAM_BETA2,
      sqrtBias2, eps: ADAM_EPS, stepSize,
    });
    if (fused !== undefined) {
      m.assign(fused[1]!);
      v.assign(fused[2]!);
      p.assign(fused[0]!);
      return;
    }
    m.assign(tf.add(tf.mul(m, ADAM_BETA1), tf.mul(g, 1 - ADAM_BETA1)));
    v.assign(tf.add(tf.mul(v, ADAM_BETA2), tf.mul(tf.square(g), 1 - ADAM_BETA2)));
    const denom = tf.add(tf.div(tf.sqrt(v), sqrtBias2), ADAM_EPS);
    p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
  }
}
