"""Helpers for tests/kube: finding binaries and running the operator against the stand-in.

A module of its own (not conftest) so `import` cannot pick up another folder's conftest."""

import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_binary(name, *subdirs):
    """A binary from ZOOKUBE_BUILD_DIR (default build/) under one of `subdirs`."""
    build = os.environ.get("ZOOKUBE_BUILD_DIR", os.path.join(REPO, "build"))
    for sub in subdirs:
        path = os.path.join(build, sub, name)
        if os.access(path, os.X_OK):
            return path
    pytest.fail(f"{name} not built under {build} ({', '.join(subdirs)})")


class Operator:
    """Runs zookube-kube-selftest against the stand-in; every run is a fresh process."""

    def __init__(self, standin, real_members=None):
        """`real_members`: a Kubelet running zookube-server for the pods; without one, members
        are the stand-in's, which answer only srvr (so membership is assumed, not asked)."""
        self.api = standin
        self.kubelet = real_members
        self.binary = find_binary("zookube-kube-selftest", "operator/kube", "kube")

    def command(self, passes, identity=None, interval_ms=20):
        cmd = [self.binary, "--kubeconfig", self.api.kubeconfig, "--passes", str(passes),
               "--interval-ms", str(interval_ms), "--probe-timeout-ms", "500",
               "--request-timeout-ms", "1000"]
        if self.kubelet:
            cmd += ["--srvr-map", self.kubelet.srvr_map_path,
                    "--local-addressing", self.kubelet.state_dir]
        else:
            cmd += ["--srvr-map", self.api.store.srvr_map_path, "--assume-applied-membership"]
        if identity:
            cmd += ["--leader-elect", "--identity", identity]
        return cmd

    def run(self, passes=1, identity=None, timeout=60, expect_ok=True):
        result = subprocess.run(self.command(passes, identity), capture_output=True, text=True,
                                timeout=timeout)
        if expect_ok:
            assert result.returncode == 0, result.stdout + result.stderr
        else:
            assert result.returncode == 1, result.stdout + result.stderr
        return result.stdout

    def start(self, passes, identity=None, interval_ms=20):
        return subprocess.Popen(self.command(passes, identity, interval_ms),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
