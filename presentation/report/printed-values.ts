/**
 * The values the studies printed (study-printed-values.json, transcribed from ../shared/seeds with
 * their source lines): per-epoch losses and accuracies (002, 003) for the curves' overlays, and
 * 002's classification reports. Read through `new URL(…, import.meta.url)`, so the data file is part
 * of the code fingerprint of every stage that uses it: correcting a transcription redraws the charts.
 */
import { readFileSync } from "node:fs";

export interface PrintedEpoch {
  epoch: number;
  trainLoss?: number;
  valLoss?: number;
  testLoss?: number;
  trainAccuracyPercent?: number;
  valAccuracyPercent?: number;
  testAccuracyPercent?: number;
  /** 1-based lines of the source text the values were read from. */
  lines: number[];
  /** The line(s) as they read. */
  printed: string;
}

export interface PrintedClass {
  digit: number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  line: number;
}

export interface PrintedExperiment {
  study: string;
  epochs: PrintedEpoch[];
  classificationReport?: { accuracyLine: number; accuracyPrinted: string; classes: PrintedClass[] };
}

export interface PrintedValues {
  sources: Record<string, string>;
  experiments: Record<string, PrintedExperiment>;
}

export const PRINTED_VALUES_FILE = new URL("./study-printed-values.json", import.meta.url);

let cached: PrintedValues | undefined;

export function printedValues(): PrintedValues {
  cached ??= JSON.parse(readFileSync(PRINTED_VALUES_FILE, "utf8")) as PrintedValues;
  return cached;
}

/** Where an experiment's printed values come from: "002_….txt, lines 372–376". */
export function printedSource(id: string): string | null {
  const entry = printedValues().experiments[id];
  if (!entry) return null;
  const lines = entry.epochs.flatMap((epoch) => epoch.lines);
  const file = printedValues().sources[entry.study]?.split("/").at(-1) ?? entry.study;
  return `${file}, lines ${Math.min(...lines)}–${Math.max(...lines)}`;
}
