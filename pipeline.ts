#!/usr/bin/env -S node --import tsx
// The command line: a thin shell over the engine (engine/cli.ts) for this project (stages/index.ts).
import { main } from "./engine/cli.ts";
import { project } from "./stages/index.ts";

process.exitCode = await main(project, process.argv.slice(2));
