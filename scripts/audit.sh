#!/usr/bin/env bash
# `npm audit --omit=dev` gate: fails on high or critical advisories in production dependencies, and
# says what it checked. When the registry's audit endpoint cannot answer (some mirrors and
# locked-down networks answer 405), nothing was checked: a WARNING block says so on stdout and
# stderr (visible in CI's output) and the step passes, since the network and not the code decided;
# REQUIRE_AUDIT=1 makes that a failure.
set -uo pipefail
out=$(npm audit --omit=dev --json 2>/dev/null)
summary=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(0, "utf8") || "{}");
  if (r.error || !r.metadata) { console.log("UNAVAILABLE " + (r.error?.summary || r.error?.code || "no audit report").split("\n")[0]); process.exit(0); }
  const v = r.metadata.vulnerabilities, deps = r.metadata.dependencies;
  const total = typeof deps === "object" ? deps.prod ?? deps.total : deps;
  const bad = Object.entries(r.vulnerabilities || {}).filter(([, x]) => ["high", "critical"].includes(x.severity));
  console.log(`${bad.length ? "FAIL" : "OK"} ${total} production packages audited: ${v.critical} critical, ${v.high} high, ${v.moderate} moderate, ${v.low} low`);
  for (const [n, x] of bad) console.log(`  ${x.severity}: ${n}`);
' <<<"$out" 2>/dev/null || echo "UNAVAILABLE unreadable audit output")
status=${summary%% *}
detail=${summary#* }
case "$status" in
  OK)
    echo "npm audit: $detail (gate: no high or critical)"
    exit 0 ;;
  FAIL)
    echo "npm audit FAILED: $detail" >&2
    exit 1 ;;
  *)
    msg="WARNING: advisory check NOT DONE: the registry did not answer npm audit ($detail). No dependency was checked for advisories."
    echo "$msg"; echo "$msg" >&2
    if [ "${REQUIRE_AUDIT:-}" = "1" ]; then echo "REQUIRE_AUDIT=1: failing" >&2; exit 1; fi
    exit 0 ;;
esac
