#!/bin/sh
# The long chaos check for releases: runs tests/chaos/run.py over many seeds, alternating the
# 5-voter and the 3-voter + 2-observer topology, until the time budget is spent (default 30 min).
# Every failing run keeps its files under tests/chaos/results/ and prints its seed.
#   sudo tests/chaos/long.sh [minutes] [first seed] [seconds per run]
set -u
minutes=${1:-30}
seed=${2:-$(date +%s)}
per_run=${3:-60}
here=$(cd "$(dirname "$0")" && pwd)
end=$(( $(date +%s) + minutes * 60 ))
runs=0
failed=0
while [ $(( $(date +%s) + per_run + 30 )) -le "$end" ]; do
  for topology in 5v 3v2o; do
    [ $(( $(date +%s) + per_run + 30 )) -le "$end" ] || break
    # A run that hangs past its own deadlines is cut off, and counts as failed.
    timeout -k 10 $(( per_run * 3 + 120 )) /usr/bin/python3 "$here/run.py" --seed "$seed" \
      --duration "$per_run" --topology "$topology"
    code=$?
    [ "$code" -eq 2 ] && exit 2  # skipped: not root or no namespaces
    runs=$((runs + 1))
    [ "$code" -eq 0 ] || failed=$((failed + 1))
    seed=$((seed + 1))
  done
done
echo "chaos long: $runs runs, $failed failed"
[ "$failed" -eq 0 ]
