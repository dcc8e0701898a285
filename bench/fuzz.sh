#!/usr/bin/env bash
# Run every fuzz target with atheris for a bounded time each (default 60 s) and
# record the executions per target in fuzz/stats.json (read by bench/security_table.py).
# Usage: bench/fuzz.sh [seconds] [target...]   (pip install '.[fuzz]' first; PYTHON=... to pick)
set -uo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <($python -c "import sys; sys.path.insert(0, 'fuzz'); from targets import TARGETS; print('\n'.join(TARGETS))")
fi
status=0
for target in "${targets[@]}"; do
  log=$(mktemp)
  $python fuzz/run.py "$target" --seconds "$seconds" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
  echo "$target rc=$rc executions=${execs:-0} seconds=$seconds"
  $python fuzz/record.py "$target" "${execs:-0}" "$seconds" "$rc"
  if [ $rc -ne 0 ]; then
    grep -A30 'Uncaught Python exception' "$log" | head -35
    cp "$log" "fuzz/last-crash-$target.log"
    status=1
  fi
  rm -f "$log"
done
exit $status
