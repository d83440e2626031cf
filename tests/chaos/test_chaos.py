"""The short chaos runs for CI: two topologies, two seeds each, the fault kinds split between the
two seeds. Each run takes ~35 s; the whole file stays under 3 minutes.
Skips (with the reason) when not root or when network namespaces cannot be made here.

  sudo /usr/bin/python3 -m pytest -q tests/chaos
"""

import functools
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import faults  # noqa: E402
import netns  # noqa: E402
import run  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402

DURATION_S = 30
# Each run gets one group; between them the groups hold every kind, and each group mixes network
# and process faults so that overlapping faults occur too.
GROUP_A = ("isolate_leader", "bridge", "kill", "pause", "netem")
GROUP_B = ("split", "one_way", "kill_leader", "restart_all", "isolate_kill_leader",
           "disk_error")


@functools.cache
def skip_reason():
    why = netns.available()
    if why:
        return f"chaos tests need network namespaces: {why}"
    if not os.access(harness.zookube_binary(), os.X_OK):
        return f"{harness.zookube_binary()} not built"
    return None


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
@pytest.mark.parametrize("topology,seed,kinds", [
    ("5v", 101, GROUP_A), ("5v", 102, GROUP_B),
    ("3v2o", 201, GROUP_B), ("3v2o", 202, GROUP_A),
])
def test_chaos_run(topology, seed, kinds):
    assert set(GROUP_A + GROUP_B) == set(faults.KINDS)
    passed, verdict, kept, problems = run.run_once(seed, DURATION_S, topology,
                                                   os.path.join(HERE, "results"), kinds=kinds)
    print(verdict)
    assert passed, "\n".join([verdict, f"files: {kept}"] + problems[:20])
