"""zkCli.sh from Debian's ZooKeeper package drives the server non-interactively (script on stdin)."""

import os
import re
import subprocess

import pytest
from kazoo.security import make_digest_acl_credential

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"

pytestmark = pytest.mark.skipif(not os.access(ZKCLI, os.X_OK), reason="zkCli.sh not installed")


def zkcli(server, *commands):
    """Runs the commands in one zkCli session; returns stdout and stderr merged in order."""
    script = "\n".join(commands) + "\nquit\n"
    result = subprocess.run([ZKCLI, "-server", server.hosts], input=script, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return result.stdout


def test_create_get_set_stat_ls_delete(zk_server, zk, base):
    out = zkcli(zk_server, f"create {base}/cli hello", f"get {base}/cli",
                f"set {base}/cli world", f"stat {base}/cli", f"ls {base}",
                f"create {base}/cli/kid", f"delete {base}/cli",
                f"deleteall {base}/cli", f"ls {base}")
    assert f"Created {base}/cli" in out
    assert re.search(r"^hello$", out, re.M)
    assert re.search(r"^dataVersion = 1$", out, re.M)
    assert re.search(r"^dataLength = 5$", out, re.M)
    assert re.search(r"^numChildren = 0$", out, re.M)
    assert "[cli]" in out
    assert f"Node not empty: {base}/cli" in out
    assert out.rstrip().count("[]") >= 1
    assert zk.exists(base + "/cli") is None


def test_ephemeral_and_sequential_flags(zk_server, zk, base):
    out = zkcli(zk_server, f"create -s {base}/seq- a", f"create -e {base}/eph b",
                f"create -s -e {base}/es- c", f"stat {base}/eph")
    assert re.search(rf"Created {re.escape(base)}/seq-\d{{10}}", out)
    assert re.search(rf"Created {re.escape(base)}/es-\d{{10}}", out)
    owner = re.search(r"^ephemeralOwner = (0x[0-9a-f]+)$", out, re.M).group(1)
    assert int(owner, 16) != 0
    # The zkCli session closed on quit: its ephemerals are gone, the sequential node stays.
    assert [c for c in zk.get_children(base) if c.startswith("seq-")]
    assert zk.exists(base + "/eph") is None


def test_acls_and_addauth(zk_server, zk, base):
    digest = make_digest_acl_credential("bob", "bob-pw")
    out = zkcli(zk_server, f"create {base}/guarded g", f"setAcl {base}/guarded digest:{digest}:cdrwa",
                f"get {base}/guarded", "addauth digest bob:bob-pw", f"get {base}/guarded",
                f"getAcl {base}/guarded")
    assert f"'digest,'{digest}" in out
    assert re.search(r"^: cdrwa$", out, re.M)
    assert f"Insufficient permission : {base}/guarded" in out
    assert re.search(r"^g$", out, re.M), "after addauth the data is readable"
    assert zk.exists(base + "/guarded").aversion == 1


def test_missing_node_errors(zk_server, base):
    out = zkcli(zk_server, f"get {base}/missing", f"delete {base}/missing")
    assert out.count(f"Node does not exist: {base}/missing") == 2
