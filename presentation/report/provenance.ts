/**
 * The report's provenance block. The report stage cannot know the commit or the lock file it ends
 * up in (neither is a declared input, and reading them would make its cache key lie), so it writes
 * a placeholder between these markers; `publishReport` fills it after the run.
 */
export const PROVENANCE_BEGIN = "<!-- provenance:begin -->";
export const PROVENANCE_END = "<!-- provenance:end -->";

export const PROVENANCE_PLACEHOLDER = [
  PROVENANCE_BEGIN,
  "> **Provenance not stamped.** This is the report as the pipeline's `report` stage cached it. The commit, the",
  "> lock file fingerprint and the machine are filled in when it is published to `reports/` (`publishReport`).",
  PROVENANCE_END,
].join("\n");
