#!/usr/bin/env bash
# Copies into the Helm chart the files it packages from elsewhere in the repository: the CRD
# (crds/) and the alert rules and dashboards (metrics/). Copies rather than symlinks, because
# Helm warns about every symlink on every command. tests/chart/test_chart.py fails when a copy
# differs from its source; run this after changing one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
CHART=charts/zookube-operator
rm -rf "$CHART/crds" "$CHART/files"
mkdir -p "$CHART/crds" "$CHART/files/alerts" "$CHART/files/dashboards"
cp crds/*.yaml "$CHART/crds/"
cp metrics/alerts/zookube.rules.yml "$CHART/files/alerts/"
cp metrics/dashboards/*.json "$CHART/files/dashboards/"
