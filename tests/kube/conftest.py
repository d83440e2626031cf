"""Fixtures for the operator's Kubernetes tests: a stand-in API server and the operator binary."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from apiserver import StandIn  # noqa: E402
from kube_harness import Operator  # noqa: E402
from kubelet import Kubelet  # noqa: E402
import ports  # noqa: E402


@pytest.fixture(autouse=True)
def ports_given_back_after_each_test():
    """A cluster takes a block of 600 ports (tests/kube/test_kube_reconfig.py's ports()): kept
    for the whole run, one worker's slice of the range ran out in CI. Set up first, this is torn
    down last, after the test's members and stand-in have stopped."""
    mark = ports.handed_out()
    yield
    ports.give_back_since(mark)


@pytest.fixture
def api(tmp_path):
    standin = StandIn(str(tmp_path))
    yield standin
    standin.stop()


@pytest.fixture
def operator(api):
    return Operator(api)


@pytest.fixture
def kubelet(api, tmp_path):
    """Real zookube-server members for the stand-in's pods (kubelet.py)."""
    k = Kubelet(api, str(tmp_path))
    yield k
    k.stop()
    if k.refusals:
        pytest.fail(f"the kubelet stand-in refused pods: {k.refusals}")
