import { styleText } from "node:util";

/** The marks both renderers put before a settled stage's line; NO_COLOR turns colour off. */
export const paint = (color: "green" | "red" | "yellow" | "dim" | "cyan", text: string): string => (process.env.NO_COLOR ? text : styleText(color, text));
export const ICONS = { cached: paint("green", "✔"), done: paint("green", "✔"), failed: paint("red", "✖"), skipped: paint("yellow", "↓") } as const;
