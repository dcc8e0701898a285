#!/usr/bin/env bash
# Run every fuzz target with atheris for a bounded time each (default 60 s).
# Usage: bench/fuzz.sh [seconds] [target...]   (pip install '.[fuzz]' first)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(python -c "import sys; sys.path.insert(0, 'fuzz'); from targets import TARGETS; print('\n'.join(TARGETS))")
fi
status=0
for target in "${targets[@]}"; do
  log=$(mktemp)
  python fuzz/run.py "$target" --seconds "$seconds" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
  echo "$target rc=$rc executions=${execs:-0}"
  if [ $rc -ne 0 ]; then
    grep -A20 'Uncaught Python exception' "$log" | head -25
    status=1
  fi
  rm -f "$log"
done
exit $status
