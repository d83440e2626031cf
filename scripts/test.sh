#!/usr/bin/env bash
# The whole test suite: deps, both builds, unit tests (release and ASan), fuzzers briefly,
# then the integration tests against the real binary. Prints "N passed, M failed" at the end
# and exits non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

PASSED=0
FAILED=0
FAILED_STEPS=()

step() {
  local name="$1" started=$SECONDS
  shift
  echo "==> $name ($(date -u +%T))"
  if "$@"; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    FAILED_STEPS+=("$name")
    echo "!!! $name failed"
  fi
  # CI must stay under 45 minutes on two cores: each step says what it cost.
  echo "<== $name: $((SECONDS - started)) s"
}

# One fuzzer for 10 s; its output goes to build-fuzz/<name>.log, shown if it fails.
run_one_fuzzer() {
  local name="$1"
  mkdir -p "build-fuzz/corpus/$name"
  # New finds go to build-fuzz/corpus; tests/fuzz/corpus holds committed seeds (read only).
  if "build-fuzz/tests/$name" -max_total_time=10 "build-fuzz/corpus/$name" \
    $([ -d "tests/fuzz/corpus/$name" ] && echo "tests/fuzz/corpus/$name") \
    >"build-fuzz/$name.log" 2>&1; then
    echo "fuzzer $name: $(grep -o 'Done [0-9]* runs' "build-fuzz/$name.log" || echo done)"
  else
    echo "fuzzer $name FAILED:"
    tail -40 "build-fuzz/$name.log"
    return 1
  fi
}
export -f run_one_fuzzer

run_fuzzers() {
  # -O1 with line tables, as libFuzzer's documentation builds its targets: enough for the
  # sanitizers' reports, and quicker to compile than -O2 (the fuzz tree: 125 s against 150 s).
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZOOKUBE_FUZZ=ON -DZOOKUBE_SANITIZE=ON \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null || return 1
  local names=() src
  for src in tests/fuzz/*.cpp; do names+=("$(basename "$src" .cpp)"); done
  ninja -C build-fuzz "${names[@]}" || return 1
  # Two at a time, one per core: each still gets its full 10 s (eight targets: four rounds, about 40 s).
  printf '%s\n' "${names[@]}" | xargs -P 2 -I{} bash -c 'run_one_fuzzer "$1"' _ {}
}

# Suites that mostly wait on servers, operators and members run on two pytest-xdist workers, a
# test file per worker at a time (module fixtures start once); tests/integration/ports.py gives
# each worker its own slice of ports. That halves the Kubernetes step (467 -> about 240 s). The
# sanitized ensembles stay on one worker: two of them at once would starve each other's timers.
PARALLEL=(-n 2 --dist loadfile)

step "install dependencies" ./scripts/install-deps.sh
step "build (release + asan)" ./scripts/build.sh --asan
step "unit tests (release)" ctest --test-dir build --output-on-failure -j "$(nproc)"
if [ -d build-asan ]; then
  step "unit tests (asan)" ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
fi
if compgen -G "tests/fuzz/*.cpp" >/dev/null; then
  step "fuzzers (10 s each)" run_fuzzers
fi
step "integration tests (ZK_IMPL=${ZK_IMPL:-zookube})" \
  env ZOOKUBE_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q "${PARALLEL[@]}" tests/integration
# kazoo's own suite, its harness starting zookube members (~2 min), beside Curator's recipes
# against a standalone server and a 3-voter ensemble (~1 min) on the other worker.
step "real clients: kazoo's suite, Curator (ZK_IMPL=${ZK_IMPL:-zookube})" \
  env ZOOKUBE_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q "${PARALLEL[@]}" tests/clients
if [ -x build-asan/server/zookube-server ]; then
  # The ensemble's sockets, reconfig, session moves, hostile input and SIGTERM at any moment
  # against the sanitized server (restarting members one by one under load too, now that
  # snapshots load fast enough).
  step "integration under ASan (ensemble, reconfig, bad input, client and quorum TLS)" \
    env ZOOKUBE_BUILD_DIR="$PWD/build-asan" /usr/bin/python3 -m pytest -q \
    tests/integration/test_ensemble.py tests/integration/test_reconfig.py \
    tests/integration/test_readonly.py tests/integration/test_bad_input.py \
    tests/integration/test_clean_stop.py tests/integration/test_tls.py \
    tests/integration/test_quorum_tls.py \
    tests/chaos/test_session_move.py tests/chaos/test_pending_reconfig.py
  # Quorum SASL's exchanges, hostile ones included (~25 s; the rolling and mixed-ensemble cases
  # run in the release step only).
  step "quorum SASL under ASan" env ZOOKUBE_BUILD_DIR="$PWD/build-asan" /usr/bin/python3 -m \
    pytest -q tests/integration/test_quorum_sasl.py -k "not mixed and not rolling"
fi
step "metrics: rules, dashboards, end to end (standalone, ensemble)" \
  env ZOOKUBE_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q tests/metrics
step "operator on Kubernetes (stand-in API server)" \
  env ZOOKUBE_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q "${PARALLEL[@]}" tests/kube
# The chaos checker's own tests, the session-move finding and four seeded chaos runs (~2 min 10 s).
# They need root and network namespaces, and say so when they skip.
step "chaos: checker, known findings, seeded runs" \
  env ZOOKUBE_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q tests/chaos
step "chart and image" bash -c './scripts/install-test-tools.sh && ZOOKUBE_REQUIRE_TOOLS=1 \
  ZOOKUBE_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q tests/chart'
# The image built by a real Docker engine from the Dockerfile (bases made by debootstrap), then
# run as the operator runs a member and on its own defaults, with kazoo against it.
step "image: built and run in Docker" env ZOOKUBE_REQUIRE_TOOLS=1 \
  ZOOKUBE_BUILD_DIR="$PWD/build" /usr/bin/python3 -m pytest -q -s tests/image

echo
if [ "$FAILED" -gt 0 ]; then
  printf 'failed: %s\n' "${FAILED_STEPS[@]}"
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
