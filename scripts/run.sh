#!/usr/bin/env bash
# Builds zookube and runs one standalone server on 127.0.0.1:2181 in the foreground (Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
./scripts/build.sh

mkdir -p data
CFG=build/standalone.cfg
# examples/standalone.cfg keeps its dataDir relative to the repo; point it at ./data absolutely.
sed "s|^dataDir=.*|dataDir=$PWD/data|" examples/standalone.cfg >"$CFG"
METRICS_PORT=$(sed -n 's/^metricsProvider.httpPort=//p' "$CFG")

cat <<INFO
zookube is starting on 127.0.0.1:2181 (data in $PWD/data)
  connect:  /usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:2181
  health:   echo ruok | python3 -c 'import socket,sys;s=socket.create_connection(("127.0.0.1",2181));s.sendall(b"ruok");print(s.recv(9).decode())'
  metrics:  http://127.0.0.1:${METRICS_PORT:-7000}/metrics
Ctrl-C to stop.
INFO
exec build/server/zookube-server "$CFG"
