"""zookube-operator --local waits for every member process it starts (issue 18, item 6).

The operator runs under tests/integration/subreaper.py, a parent that collects none of the
operator's children: whatever the operator leaves unwaited shows up there once it has exited,
as it would under a PID 1 that reaps nothing (a container whose entrypoint is the operator).
While it runs, /proc shows whether a member that died is left a zombie of the operator.
"""

import json
import os
import signal
import subprocess
import sys

import pytest

import harness
from subreaper import children_of
from test_operator_local import OPERATOR, WAIT_S, LocalCluster, server_pids_under

pytestmark = pytest.mark.skipif(
    harness.impl() != "zookube" or not os.path.exists(OPERATOR),
    reason="needs zookube-operator and zookube-server built")

SUBREAPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "subreaper.py")


class ReapedCluster(LocalCluster):
    """The local cluster with its operator started under subreaper.py."""

    def start_operator(self):
        self.report = os.path.join(self.workdir, "subreaper.json")
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [sys.executable, SUBREAPER, self.report,
             OPERATOR, "--local", self.manifest, "--state-dir", self.state,
             "--server-binary", harness.zookube_binary(),
             "--metrics-address", f"127.0.0.1:{self.metrics_port}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

        def operator_pid():
            try:
                with open(self.report + ".pid") as f:
                    return int(f.read())
            except (OSError, ValueError):
                return None
        self.operator_pid = harness.wait_until(operator_pid, timeout=10,
                                               what="the operator started")

    def cleanup(self):
        """Kills what is left and shows the operator's output (pytest prints it on failure)."""
        super().cleanup()
        print("---- operator output ----\n" + self.output()[-6000:])


def zombies_of(pid):
    return [c for c in children_of(pid) if c["state"] == "Z"]


@pytest.fixture
def cluster(tmp_path):
    c = ReapedCluster(tmp_path)
    c.start_operator()
    yield c
    c.cleanup()


def test_a_member_that_dies_is_collected_and_sigterm_leaves_no_child_behind(cluster):
    members = cluster.wait_healthy(observers=1)
    victim = cluster.member("follower")
    os.kill(victim["pid"], signal.SIGKILL)
    # Collected on the operator's next pass, with how it ended, then started again.
    harness.wait_until(
        lambda: f"member {victim['name']}: exited (pid {victim['pid']}, killed by signal 9"
        in cluster.output(), timeout=WAIT_S, what="the operator reporting the member's end")
    assert victim["pid"] not in [z["pid"] for z in zombies_of(cluster.operator_pid)]
    members = cluster.wait_healthy(observers=1)
    assert zombies_of(cluster.operator_pid) == []

    os.kill(cluster.operator_pid, signal.SIGTERM)
    assert cluster.proc.wait(timeout=WAIT_S) == 0
    with open(cluster.report) as f:
        report = json.load(f)
    assert report["exit"] == 0
    assert report["leftovers"] == [], "children the operator never waited for"
    assert server_pids_under(cluster.state) == []
    # Every member was waited for, and each stopped cleanly on SIGTERM.
    out = cluster.output()
    for m in members:
        assert f"member {m['name']}: stopped (pid {m['pid']}, exit code 0)" in out, out[-3000:]
