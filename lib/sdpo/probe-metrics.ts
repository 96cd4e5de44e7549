/**
 * The keys a step's probe scores and guard verdict add to its flat metrics record (scored after
 * the step, in the background), with the names the charts show. Rates are 0–1. Pure data, safe to
 * import in the browser.
 */
export const PROBE_KEYS = {
  correctionsKept: "probe/corrections_kept",
  approvedKept: "probe/approved_kept",
  deniedReturned: "probe/denied_returned",
  topFirstMoveShare: "probe/top_first_move_share",
  probes: "probe/count",
  flagged: "guard/flagged",
  /** The best approved behaviour kept of the five steps before, and how many points below it this step is. */
  bestRecent: "guard/approved_best_recent",
  dropPoints: "guard/drop_points",
  rolledBack: "guard/rolled_back",
} as const;

export const PROBE_CHARTS = [
  {
    key: PROBE_KEYS.correctionsKept,
    name: "Corrections kept",
    explanation:
      "Of your recent corrections, the share whose denied call stays gone (or whose corrected call appears) under this version",
  },
  {
    key: PROBE_KEYS.approvedKept,
    name: "Approved behaviour kept",
    explanation: "Of the calls you recently approved unchanged, the share this version still proposes first",
  },
] as const;
