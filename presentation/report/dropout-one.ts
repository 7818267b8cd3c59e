/**
 * Why a dropout rate of 1 gives what it gives, read from the row's own numbers. PyTorch's
 * Dropout(p = 1) zeroes fc1's output in training, so nothing before fc2 receives a gradient and
 * only fc2's bias learns: the network answers the same class for every training image (the
 * bias drifts towards the most frequent one). In evaluation dropout is the identity, so the
 * untouched, randomly initialised convolutions and fc layers feed through to that learned bias:
 * a fixed classifier whose answers depend on the seed's initial weights, anything from a few
 * percent to about 20% correct. The sentence states that mechanism and shows it in each seed's
 * confusion matrix (which digits it predicts, how often) and training accuracy.
 */
import { percent } from "./format.ts";
import type { ExperimentRow, SeedPredictions } from "./rows.ts";

const code = (id: string): string => `\`${id}\``;

function seedClause(seed: SeedPredictions): string {
  const top = seed.mostPredicted;
  return (
    `seed ${seed.seed} answers ${top.digit} for ${percent(top.share, 0)} of the test images and uses ${seed.digitsPredicted} of the 10 digits, ` +
    `${percent(seed.accuracy)} correct`
  );
}

export function dropoutOneSentence(row: ExperimentRow, context: string): string {
  const seeds = row.seedPredictions;
  const training = seeds.map((seed) => seed.trainAccuracy).filter((value): value is number => value !== null);
  const common = seeds[0]?.mostCommonTrue;
  const trainingPart =
    training.length === 0
      ? ""
      : ` Training accuracy in the last epoch: ${training.map((value) => percent(value)).join(", ")} — what a network that answers one class for every image scores` +
        (common ? ` (the most common digit, ${common.digit}, is ${percent(common.share)} of the test set).` : ".");
  const accuracies = seeds.map((seed) => seed.accuracy);
  const spread = accuracies.length > 1 ? ` (${percent(Math.min(...accuracies))} to ${percent(Math.max(...accuracies))} over ${accuracies.length} seeds)` : ` (${percent(accuracies[0] ?? 0)})`;
  return (
    `Dropout rate 1 (${code(row.id)}, ${context}): PyTorch's Dropout(p = 1) zeroes fc1's output in training, so nothing before fc2 gets a gradient and only fc2's bias learns.` +
    trainingPart +
    " In evaluation dropout is the identity: the untrained convolutions and fc layers, left at their random initial weights, feed through to that learned bias, " +
    "a fixed classifier that depends on the seed's initial weights. The confusion matrices show it: " +
    `${seeds.map(seedClause).join("; ")}. Its test accuracy${spread} is that of a fixed random classifier, not of guessing: anything from a few percent to about 20% is expected.`
  );
}
