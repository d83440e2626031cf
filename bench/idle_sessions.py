#!/usr/bin/python3
"""Memory per idle session: opens N sessions (raw protocol, one exists() each, then silence)
against zookube and Apache ZooKeeper in turn and prints how much each server's RSS grew per
session. Production ensembles hold thousands of mostly idle sessions, which the throughput
workloads do not show.

Usage: /usr/bin/python3 bench/idle_sessions.py [--sessions 2000] [--build-dir build-bench]
                                               [--only zookube|zookeeper]
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from compare import ZooKeeper, Zookube, start_and_time  # noqa: E402
from measure import memory_kb  # noqa: E402
from zkwire import WireClient  # noqa: E402


UNLIMITED = {"maxClientCnxns": "0"}  # every session comes from 127.0.0.1


def measure(server, sessions):
    start_and_time(server, "/")
    try:
        before = memory_kb(server.pid)["VmRSS"]
        clients = [WireClient(server.port, timeout_ms=60000) for _ in range(sessions)]
        for c in clients:
            err, _ = c.exists("/")
            if err != 0:
                raise RuntimeError(f"{server.name}: exists('/') failed with {err}")
        after = memory_kb(server.pid)["VmRSS"]
        for c in clients:
            c.sock.close()
        return {"server": server.name, "sessions": sessions, "rss_before_kb": before,
                "rss_after_kb": after, "kb_per_session": round((after - before) / sessions, 1)}
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=2000)
    p.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"))
    p.add_argument("--only", choices=("zookube", "zookeeper"))
    args = p.parse_args()
    need = args.sessions + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:  # the servers inherit it
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    tmp = tempfile.mkdtemp(prefix="zkidle-")
    try:
        servers = []
        if args.only != "zookeeper":
            binary = os.path.join(args.build_dir, "server", "zookube-server")
            servers.append(Zookube(binary, os.path.join(tmp, "zookube"), UNLIMITED))
        if args.only != "zookube":
            servers.append(ZooKeeper(os.path.join(tmp, "zookeeper"), UNLIMITED))
        results = []
        for server in servers:
            os.makedirs(server.workdir, exist_ok=True)
            results.append(measure(server, args.sessions))
            print(json.dumps(results[-1]), flush=True)
        if len(results) == 2:
            a, b = results[0]["kb_per_session"], results[1]["kb_per_session"]
            print(f"KiB per idle session: zookube {a}, ZooKeeper {b}"
                  + (f", ratio {a / b:.2f}" if b > 0 else ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
