#!/usr/bin/env bash
# Builds the release tree into build/; with --asan also an ASan+UBSan tree into build-asan/.
# With --binaries only zookube-server and zookube-operator, without the tests (the image's
# build stage: it has no GoogleTest). JOBS (default: number of cores) bounds the parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS="${JOBS:-$(nproc)}"
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
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZOOKUBE_TESTS=OFF >/dev/null
  ninja -C build -j "$JOBS" zookube-server zookube-operator
  exit 0
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZOOKUBE_TESTS=ON >/dev/null
ninja -C build -j "$JOBS"

if [ "$ASAN" -eq 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DZOOKUBE_SANITIZE=ON >/dev/null
  # Unit tests, the simulator and the server (whose network layer the ensemble tests exercise).
  targets=$(ninja -C build-asan -t targets all | sed -n 's/^\(\(unit\|sim\)_[a-z]*\): .*/\1/p' | sort -u)
  targets="$targets zookube-server"
  if [ -n "$targets" ]; then
    # shellcheck disable=SC2086
    ninja -C build-asan -j "$JOBS" $targets
  fi
fi
