"""The official C client (libzookeeper-mt) against the server, via tests/cclient/cclient_check.c."""

import os
import subprocess

import pytest

import harness


def cclient_binary():
    return os.path.join(harness.build_dir(), "tests", "cclient_check")


def test_c_client_checks_pass(zk_server):
    binary = cclient_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} not built: ninja -C {harness.build_dir()} cclient_check")
    result = subprocess.run([binary, zk_server.hosts], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    assert "0 failure(s)" in result.stdout
    assert "FAIL" not in result.stdout
