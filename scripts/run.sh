#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs examples/zkcluster.yaml (3 voters and
# 1 observer) on this machine through the operator's local mode, in the foreground. Ctrl-C stops
# every member cleanly; the data stays in ./zookube-state for the next start.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./scripts/build.sh

exec build/operator/zookube-operator --local examples/zkcluster.yaml --state-dir "$PWD/zookube-state"
