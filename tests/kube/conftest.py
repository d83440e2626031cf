"""Fixtures for the operator's Kubernetes tests: a stand-in API server and the operator binary."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apiserver import StandIn  # noqa: E402
from kube_harness import Operator  # noqa: E402
from kubelet import Kubelet  # noqa: E402


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
