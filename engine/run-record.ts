/**
 * How a result was made, kept beside it (never inside its content): when, how long, where, under what
 * load, which input hashes were verified before it ran, and the stage's own measurements (images/s,
 * seconds per epoch). Content files stay a function of code, params and inputs, so a rerun that
 * reproduces them byte for byte lets every dependent stay cached; the record may differ run to run.
 */
export const RUN_RECORD_SCHEMA = 1;

export type Measurement = number | string | boolean | null | readonly Measurement[] | { readonly [key: string]: Measurement };

export interface RunRecord {
  schema: typeof RUN_RECORD_SCHEMA;
  startedAt: string;
  durationSeconds: number;
  /** Where it ran: node, platform, cpu, host, runner, plus the stage's facts (tfjs backend, versions). */
  environment: Record<string, string>;
  /** The project's execution options this run used (backend, threads, …), resolved. */
  execution: Record<string, string>;
  /** Stages running at once on this machine when it started, and the 1-minute load average then. */
  load: { concurrentStages: number; loadAverage: number };
  /**
   * Upstream stage → the output hash its files had when fully rehashed just before this run. Absent
   * on results made before inputs were verified; `--verify` reruns those.
   */
  verifiedInputs?: Record<string, string>;
  /** What the stage measured about itself; see StageContext.recordMeasurements. */
  measurements: Record<string, Measurement>;
}

/** A record written before run records had a schema (or by hand) lacks fields: fill what is safe to fill. */
export function normalizeRunRecord(value: unknown): RunRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Partial<RunRecord>;
  if (typeof record.startedAt !== "string" || typeof record.durationSeconds !== "number") return undefined;
  return {
    schema: RUN_RECORD_SCHEMA,
    startedAt: record.startedAt,
    durationSeconds: record.durationSeconds,
    environment: record.environment ?? {},
    execution: record.execution ?? {},
    load: record.load ?? { concurrentStages: 0, loadAverage: 0 },
    ...(record.verifiedInputs ? { verifiedInputs: record.verifiedInputs } : {}),
    measurements: record.measurements ?? {},
  };
}
