#!/usr/bin/env bash
# The shell half of action.yml, runnable (and tested) outside GitHub.
#
# Runs `loadguard scan` or `loadguard check-code`, always leaves a SARIF file
# behind (so the upload step has something to show even when loadguard could
# not run), and reports the gate's exit code as the step output `exit-code`
# instead of failing, so SARIF is uploaded before the job fails.
#
# Environment (all optional except LG_TARGETS for scan):
#   LG_MODE        scan | check-code                       (default: scan)
#   LG_TARGETS     whitespace-separated targets/paths        (default: .)
#   LG_PRESET      strict | balanced | audit                 (default: strict)
#   LG_POLICY      policy file (overrides LG_PRESET)
#   LG_BASELINE    baseline file of accepted findings
#   LG_SARIF       SARIF output path                         (default: loadguard.sarif)
#   LG_HTML        also write the HTML report here (scan only)
#   LOADGUARD      the command to run                        (default: loadguard)
#   GITHUB_OUTPUT, GITHUB_STEP_SUMMARY   set by GitHub Actions
set -uo pipefail

mode="${LG_MODE:-scan}"
targets="${LG_TARGETS:-.}"
preset="${LG_PRESET:-strict}"
sarif="${LG_SARIF:-loadguard.sarif}"
read -r -a loadguard <<< "${LOADGUARD:-loadguard}"

case "$mode" in
  scan|check-code) ;;
  *) echo "loadguard action: unknown mode '$mode' (scan or check-code)" >&2; exit 2 ;;
esac

read -r -a target_list <<< "$targets"
args=("$mode" "${target_list[@]}")
if [[ -n "${LG_POLICY:-}" ]]; then
  args+=(--policy "$LG_POLICY")
else
  args+=(--preset "$preset")
fi
if [[ -n "${LG_BASELINE:-}" ]]; then
  args+=(--baseline "$LG_BASELINE")
fi
if [[ "$mode" == "scan" ]]; then
  args+=(-q)
fi

"${loadguard[@]}" "${args[@]}" --format sarif -o "$sarif"
code=$?

if [[ ! -s "$sarif" ]]; then
  # loadguard stopped before writing (usage error, crash): upload a log that says so.
  cat > "$sarif" <<EOF
{"\$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
 "runs": [{"tool": {"driver": {"name": "loadguard", "rules": []}}, "results": [],
   "invocations": [{"executionSuccessful": false, "toolExecutionNotifications": [
     {"level": "error", "message": {"text": "loadguard exited with code $code before writing SARIF"}}]}]}]}
EOF
fi

if [[ -n "${LG_HTML:-}" && "$mode" == "scan" ]]; then
  "${loadguard[@]}" "${args[@]}" --format html -o "$LG_HTML" || true
fi

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  {
    echo "exit-code=$code"
    echo "sarif=$sarif"
  } >> "$GITHUB_OUTPUT"
fi

if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  case "$code" in
    0) verdict="passed" ;;
    1) verdict="failed: policy violation" ;;
    *) verdict="error: something could not be scanned" ;;
  esac
  {
    echo "### loadguard $mode: $verdict (exit $code)"
    echo
    echo "Targets: \`$targets\` · policy: ${LG_POLICY:-preset $preset} · SARIF: \`$sarif\`"
  } >> "$GITHUB_STEP_SUMMARY"
fi

echo "loadguard $mode exit code: $code"
exit 0
