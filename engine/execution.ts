import { PipelineError } from "./errors.ts";

/**
 * An execution option a project declares (its ML backend, threads per stage): the engine turns it
 * into a `--NAME VALUE` flag, resolves it once per command, hands it to the stages that declare it
 * (`context.execution`, and the `env` variable in stage processes), and records it in their run
 * records. The engine never interprets the values.
 *
 * The cache policy is explicit, per option, because a shared cache must never hand a user a result
 * they would not expect:
 *  - "key": results can differ with the value (another backend rounds differently), so the resolved
 *    value is part of the cache key of every stage declaring the option. `resolve` must therefore
 *    turn choices such as "auto" into the concrete value this machine will use.
 *  - "recorded": results are the same whatever the value (a test shows it, e.g. bit-identical
 *    weights for 1 and 2 threads); the value is only recorded, so it never splits the cache.
 */
export interface ExecutionOption {
  name: string;
  description: string;
  policy: "key" | "recorded";
  /** Environment variable read when the flag is absent, and set for the stage's process. */
  env?: string;
  /** The value when neither the flag nor `env` gives one. */
  defaultValue(machine: MachineShape): string;
  /** Checks and resolves a value; throw an Error whose message says what is accepted. */
  resolve(value: string, machine: MachineShape): string;
}

export interface MachineShape {
  cores: number;
  /** Stages the run executes at once. */
  jobs: number;
}

/** Resolves every declared option from flags (`given`), then the environment, then its default. */
export function resolveExecution(
  options: readonly ExecutionOption[],
  given: Readonly<Record<string, string | undefined>>,
  machine: MachineShape,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const option of options) {
    const fromFlag = given[option.name];
    const fromEnv = option.env ? env[option.env] : undefined;
    const raw = fromFlag ?? (fromEnv === "" ? undefined : fromEnv) ?? option.defaultValue(machine);
    try {
      resolved[option.name] = option.resolve(raw, machine);
    } catch (error) {
      const source = fromFlag !== undefined ? `--${option.name}` : fromEnv ? option.env! : `the default of --${option.name}`;
      throw new PipelineError("invalid-cli", `${source} "${raw}": ${(error as Error).message}`);
    }
  }
  return resolved;
}

/** The part of a stage's key that execution options contribute: its declared "key" options only. */
export function keyedExecution(
  options: readonly ExecutionOption[],
  declared: readonly string[],
  resolved: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const keyed: Record<string, string> = {};
  for (const name of declared) {
    const option = options.find((candidate) => candidate.name === name);
    if (!option) throw new PipelineError("unknown-execution-option", `a stage declares the execution option "${name}", which the project does not define`);
    if (option.policy === "key") keyed[name] = resolved[name]!;
  }
  return Object.keys(keyed).length === 0 ? undefined : keyed;
}

/** The options a stage declared, with their values, as its context and run record see them. */
export function declaredExecution(declared: readonly string[], resolved: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(declared.filter((name) => name in resolved).map((name) => [name, resolved[name]!]));
}
