"""Apache Curator's recipes (Debian's libcurator-*-java) against a standalone server and a
3-voter ensemble: curator/CuratorChecks.java, compiled here with javac, prints one RESULT line per
check and each check is a test below. ZK_IMPL=apache runs the same against ZooKeeper 3.8.
"""

import os
import shutil
import subprocess
import sys

import pytest

# The server harness of the integration tests (ZK_IMPL, ports, ensembles).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))

import ensemble  # noqa: E402
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "curator", "CuratorChecks.java")
JAVA_DIR = "/usr/share/java"
CLASSPATH_JARS = ("curator-recipes.jar", "curator-framework.jar", "curator-client.jar",
                  "zookeeper.jar", "zookeeper-jute.jar", "guava.jar", "slf4j-api.jar",
                  "slf4j-simple.jar")
JVM_FLAGS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
             "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
# Each check has a 60 s deadline inside the program; this bounds the whole program.
PROGRAM_DEADLINE_S = 8 * 60

CHECKS = [
    "mutex", "read_write_lock", "leader_latch", "leader_selector", "curator_cache", "tree_cache",
    "persistent_watch", "persistent_watcher_recipe", "ttl_node", "persistent_ttl_node",
    "persistent_node", "simple_queue", "distributed_queue", "barrier", "double_barrier",
    "transaction", "transaction_failure", "session_loss",
]

# Checks known to fail on zookube, with the reason; empty since addWatch's reply carries its
# ErrorResponse body as ZooKeeper's does (issue 18 item 1).
EXPECTED_TO_FAIL_ON_ZOOKUBE = {}


def classpath(*extra):
    return ":".join([os.path.join(JAVA_DIR, jar) for jar in CLASSPATH_JARS] + list(extra))


@pytest.fixture(scope="session")
def curator_classes(tmp_path_factory):
    missing = [jar for jar in CLASSPATH_JARS if not os.path.exists(os.path.join(JAVA_DIR, jar))]
    assert not missing, f"missing {missing}: run scripts/install-deps.sh"
    assert shutil.which("javac"), "no javac: run scripts/install-deps.sh"
    out = tmp_path_factory.mktemp("curator-classes")
    subprocess.run(["javac", "-nowarn", "-cp", classpath(), "-d", str(out), SOURCE],
                   check=True, timeout=300)
    return str(out)


def run_checks(classes, hosts, log_path):
    """Runs every check against hosts; returns {check: (passed, detail)}."""
    with open(log_path, "wb") as log:
        proc = subprocess.run(["java", *JVM_FLAGS, "-cp", classpath(classes), "CuratorChecks",
                               hosts, *CHECKS],
                              stdout=subprocess.PIPE, stderr=log, timeout=PROGRAM_DEADLINE_S)
    results = {}
    for line in proc.stdout.decode(errors="replace").splitlines():
        if line.startswith("RESULT "):
            _, name, verdict, *detail = line.split(" ", 3) + [""]
            results[name] = (verdict == "PASS", " ".join(detail).strip())
    return results


@pytest.fixture(scope="module", params=["standalone", "ensemble"])
def curator_results(request, curator_classes, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"curator-{request.param}")
    log_path = str(workdir / "curator.log")
    if request.param == "standalone":
        server = harness.Server(str(workdir / "server")).start()
        try:
            results = run_checks(curator_classes, server.hosts, log_path)
        finally:
            server.stop()
    else:
        with ensemble.Ensemble(str(workdir / "ensemble"), voters=3) as members:
            results = run_checks(curator_classes, members.hosts, log_path)
    return results, log_path


@pytest.mark.parametrize("check", CHECKS)
def test_curator_recipe(curator_results, check):
    results, log_path = curator_results
    assert check in results, f"no RESULT line for {check}; see {log_path}"
    passed, detail = results[check]
    if not passed and harness.impl() == "zookube" and check in EXPECTED_TO_FAIL_ON_ZOOKUBE:
        pytest.xfail(f"{EXPECTED_TO_FAIL_ON_ZOOKUBE[check]}: {detail}")
    assert passed, f"{check}: {detail} (client log {log_path})"
