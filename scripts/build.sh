#!/usr/bin/env bash
# Builds the release tree into build/; with --asan also an ASan+UBSan tree into build-asan/.
# With --binaries only zookube-server and zookube-operator, without the tests (the image's
# build stage: it has no GoogleTest). JOBS (default: number of cores) bounds the parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS="${JOBS:-$(nproc)}"
# Debug information: GCC's and clang's -g does not change the code they generate, only what the
# object files carry. Line tables (-g1) are all that backtraces, sanitizer reports and perf need,
# and they compile a third faster than full -g (server.cpp: 18 -> 11.5 s), which keeps CI on two
# cores inside its budget. The image strips its binaries, so its build carries none (-g0). A full
# -g tree for a debugger: cmake -S . -B build-debug -DCMAKE_BUILD_TYPE=RelWithDebInfo.
ASAN=0
BINARIES=0
for arg in "$@"; do
  case "$arg" in
    --asan) ASAN=1 ;;
    --binaries) BINARIES=1 ;;
    -h|--help) echo "usage: $0 [--asan] [--binaries]"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [ "$BINARIES" -eq 1 ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g0 -DNDEBUG" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g0 -DNDEBUG" -DZOOKUBE_TESTS=OFF >/dev/null
  ninja -C build -j "$JOBS" zookube-server zookube-operator
  exit 0
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" -DZOOKUBE_TESTS=ON >/dev/null
ninja -C build -j "$JOBS"

if [ "$ASAN" -eq 1 ]; then
  # clang, as the fuzzers: at -O0 with the sanitizers it compiles our heaviest files in half the
  # time GCC 12 takes (kube_client.cpp: 7 s against 14 s), which keeps CI inside its budget.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG=-g1 \
    -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DZOOKUBE_SANITIZE=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  # Unit tests, the simulator and the server (whose network layer the ensemble tests exercise).
  targets=$(ninja -C build-asan -t targets all | sed -n 's/^\(\(unit\|sim\)_[a-z]*\): .*/\1/p' | sort -u)
  targets="$targets zookube-server"
  if [ -n "$targets" ]; then
    # shellcheck disable=SC2086
    ninja -C build-asan -j "$JOBS" $targets
  fi
fi
