/**
 * The training / evaluation loss on logits.
 *
 * "cross-entropy" is torch.nn.CrossEntropyLoss on logits; "log-softmax-nll" is 003's
 * F.nll_loss(F.log_softmax(z)). They are the same function (CrossEntropyLoss IS log_softmax + NLL),
 * both computed here as -log_softmax(z)[label], numerically stable through tf.logSoftmax.
 */
import * as tf from "@tensorflow/tfjs";
import type { LossName } from "./config.ts";
import { MNIST_CLASSES } from "./mnist-files.ts";

export function assertLossName(loss: LossName): void {
  if (loss !== "cross-entropy" && loss !== "log-softmax-nll") {
    throw new Error(`unknown loss "${String(loss)}": use cross-entropy or log-softmax-nll`);
  }
}

/** Loss of each example: -log softmax(logits)[label]. labels: int32 class ids. */
export function perExampleLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, loss: LossName = "cross-entropy"): tf.Tensor1D {
  assertLossName(loss);
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits);
    // int32 then cast: tfjs-backend-wasm 4.22's OneHot ignores a float32 dtype and writes int32
    // bits into the float32 tensor (1 reads as 1.4e-45).
    const oneHot = tf.cast(tf.oneHot(labels, MNIST_CLASSES), "float32");
    return tf.neg(tf.sum(tf.mul(oneHot, logProbs), 1)) as tf.Tensor1D;
  });
}

/** Mean loss over the batch (torch's reduction="mean"). */
export function meanLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, loss: LossName = "cross-entropy"): tf.Scalar {
  return tf.tidy(() => tf.mean(perExampleLoss(logits, labels, loss)));
}
