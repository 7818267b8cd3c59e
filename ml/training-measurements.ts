/**
 * What a training run measured about itself — wall time and throughput — as the train stage records
 * it in its run record (StageContext.recordMeasurements), never in its content: history.json holds
 * only what code, spec, data and backend determine, so a retrain that reproduces the weights leaves
 * every dependent cached. The report and the comparison charts read these back from the record.
 */
import type { EpochTiming, TrainResult } from "./train.ts";

/** A type literal, not an interface: it must fit the engine's JSON `Measurement` type. */
export type TrainingMeasurements = {
  /** Wall time from building the model to the end of the last epoch, validation passes included. */
  trainingSeconds: number;
  /** Training images per second, the mean over epochs (validation excluded). */
  imagesPerSecond: number;
  /** Seconds spent in the validation passes after each epoch, all epochs together. */
  validationSeconds: number;
  /** Seconds spent in the per-epoch test passes (`evaluation.testEachEpoch`), all epochs together; 0 without them. */
  testSeconds: number;
  epochs: EpochTimingMeasurement[];
};

type EpochTimingMeasurement = { [Key in keyof EpochTiming]: EpochTiming[Key] };

export function trainingMeasurements(result: Pick<TrainResult, "history" | "totalSeconds">): TrainingMeasurements {
  const epochs = result.history.map(({ epoch, seconds, trainSeconds, validationSeconds, testSeconds, imagesPerSecond }) => ({
    epoch,
    seconds,
    trainSeconds,
    validationSeconds,
    testSeconds,
    imagesPerSecond,
  }));
  return {
    trainingSeconds: result.totalSeconds,
    imagesPerSecond: mean(epochs.map((epoch) => epoch.imagesPerSecond)),
    validationSeconds: epochs.reduce((sum, epoch) => sum + epoch.validationSeconds, 0),
    testSeconds: epochs.reduce((sum, epoch) => sum + epoch.testSeconds, 0),
    epochs,
  };
}

/**
 * The measurements as a run record holds them (parsed JSON). Undefined when the record has none — a
 * result made before they were recorded, or read without its record; a record whose values have the
 * wrong shape is an error naming where it came from.
 */
export function readTrainingMeasurements(measurements: Readonly<Record<string, unknown>> | undefined, where: string): TrainingMeasurements | undefined {
  if (measurements === undefined || !("trainingSeconds" in measurements)) return undefined;
  const number = (value: unknown, field: string): number => {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error(`${where}: measurement "${field}" should be a number, got ${JSON.stringify(value)}; rerun the training with --force to record it again`);
    }
    return value;
  };
  const epochs = measurements.epochs;
  if (!Array.isArray(epochs)) throw new Error(`${where}: measurement "epochs" should be a list, got ${JSON.stringify(epochs)}; rerun the training with --force to record it again`);
  // Records made before per-epoch test passes existed have no testSeconds: they ran none.
  const optional = (value: unknown, field: string): number => (value === undefined ? 0 : number(value, field));
  return {
    trainingSeconds: number(measurements.trainingSeconds, "trainingSeconds"),
    imagesPerSecond: number(measurements.imagesPerSecond, "imagesPerSecond"),
    validationSeconds: number(measurements.validationSeconds, "validationSeconds"),
    testSeconds: optional(measurements.testSeconds, "testSeconds"),
    epochs: epochs.map((entry: Record<string, unknown>, index) => ({
      epoch: number(entry?.epoch, `epochs[${index}].epoch`),
      seconds: number(entry?.seconds, `epochs[${index}].seconds`),
      trainSeconds: number(entry?.trainSeconds, `epochs[${index}].trainSeconds`),
      validationSeconds: number(entry?.validationSeconds, `epochs[${index}].validationSeconds`),
      testSeconds: optional(entry?.testSeconds, `epochs[${index}].testSeconds`),
      imagesPerSecond: number(entry?.imagesPerSecond, `epochs[${index}].imagesPerSecond`),
    })),
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}
