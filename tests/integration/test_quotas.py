"""Quotas as ZooKeeper 3.8 keeps them (issue 23, item 2): zkCli's setquota / listquota / delquota
create and read /zookeeper/quota/<path>/zookeeper_limits and zookeeper_stats; every member keeps
the stats equal to the subtree's node count and data bytes on each create, delete and setData;
with enforceQuota=true a write past a hard limit fails with QUOTAEXCEEDED (-125), past a soft
limit it passes. Runs against both servers (ZK_IMPL): ZooKeeper's answers are the expectation.
"""

import os
import shutil

import pytest

from ensemble import Ensemble, mntr_of
from test_zkcli import ZKCLI, zkcli
from zkwire import OP_CREATE, OP_MULTI, ANYONE, WireClient, p_acls, p_bool, p_buf, p_int, p_str

QUOTA_EXCEEDED, NO_NODE = -125, -101

pytestmark = pytest.mark.skipif(not os.access(ZKCLI, os.X_OK), reason="zkCli.sh not installed")


def subtree(zk, path):
    """(count, bytes) of path's subtree as a quota counts it: the path itself included."""
    data, _ = zk.get(path)
    count, size = 1, len(data or b"")
    for child in zk.get_children(path):
        c, b = subtree(zk, f"{path}/{child}")
        count, size = count + c, size + b
    return count, size


def stats_of(zk, path):
    return zk.get(f"/zookeeper/quota{path}/zookeeper_stats")[0].decode()


def limits_of(zk, path):
    return zk.get(f"/zookeeper/quota{path}/zookeeper_limits")[0].decode()


NO_HARD = "=;byteHardLimit=-1;countHardLimit=-1"


def test_setquota_listquota_and_delquota_through_zkcli(zk_server, zk, base):
    root = base + "/tenant"
    zk.create(root, b"12345")
    zk.create(root + "/a", b"xy")
    out = zkcli(zk_server, f"setquota -n 10 {root}", f"setquota -b 100 {root}",
                f"listquota {root}")
    assert limits_of(zk, root) == "count=10,bytes=100" + NO_HARD
    assert stats_of(zk, root) == "count=2,bytes=7"
    assert f"absolute path is /zookeeper/quota{root}/zookeeper_limits" in out
    assert f"Output quota for {root} count=10,bytes=100{NO_HARD}" in out
    assert f"Output stat for {root} count=2,bytes=7" in out

    # Every write under the quota root moves the stats; writes elsewhere do not.
    zk.create(root + "/a/deep", b"abc")
    zk.create(root + "/b")
    zk.set(root + "/a", b"xyz-longer")
    zk.delete(root + "/b")
    zk.create(base + "/elsewhere", b"zzzz")
    count, size = subtree(zk, root)
    assert stats_of(zk, root) == f"count={count},bytes={size}"
    out = zkcli(zk_server, f"listquota {root}")
    assert f"Output stat for {root} count={count},bytes={size}" in out

    # The stats node's stat does not move when the tree rewrites its data (outside any txn).
    stat_before = zk.get(f"/zookeeper/quota{root}/zookeeper_stats")[1]
    zk.create(root + "/c", b"1")
    assert zk.get(f"/zookeeper/quota{root}/zookeeper_stats")[1] == stat_before

    out = zkcli(zk_server, f"delquota -n {root}", f"listquota {root}")
    assert f"Output quota for {root} count=-1,bytes=100{NO_HARD}" in out
    out = zkcli(zk_server, f"delquota {root}", f"listquota {root}")
    assert zk.exists(f"/zookeeper/quota{root}/zookeeper_limits") is None
    assert f"quota for {root} does not exist." in out
    zk.create(root + "/after-delquota", b"")  # no quota: nothing to maintain, nothing fails


def test_hard_limits_in_the_limits_text(zk_server, zk, base):
    root = base + "/hard"
    zk.create(root)
    out = zkcli(zk_server, f"setquota -N 4 {root}", f"setquota -B 50 {root}", f"listquota {root}")
    assert limits_of(zk, root) == "count=-1,bytes=-1=;byteHardLimit=50;countHardLimit=4"
    assert f"Output quota for {root} count=-1,bytes=-1=;byteHardLimit=50;countHardLimit=4" in out
    assert stats_of(zk, root) == "count=1,bytes=0"


def test_quotas_zkcli_refuses_and_one_on_zookeeper_itself(server_factory, client_factory):
    server = server_factory()
    zk = client_factory(server)
    zk.create("/outer/inner", makepath=True)
    out = zkcli(server, "setquota -n 5 /outer", "setquota -n 5 /outer/inner",
                "setquota -n 5 /missing")
    assert "/outer/inner has a parent /outer which has a quota" in out
    assert "/missing does not exist." in out
    assert zk.exists("/zookeeper/quota/outer/inner/zookeeper_limits") is None
    assert zk.exists("/zookeeper/quota/missing") is None
    # ZooKeeper lets a quota be set on /zookeeper, and counts its whole subtree, the stats node
    # twice: once when it recounts the subtree as the node appears (with zkCli's first
    # "count=0,bytes=0" in it), once more as a node created under the quota root.
    zkcli(server, "setquota -n 5 /zookeeper")
    count, size = subtree(zk, "/zookeeper")
    final = stats_of(zk, "/zookeeper")
    first = len("count=0,bytes=0")
    assert final == f"count={count + 1},bytes={size - len(final) + 2 * first}"


def multi_create(client, *paths):
    """A multi of plain creates over the wire; the first op's error code (0 if it succeeded)."""
    body = b""
    for path in paths:
        body += p_int(OP_CREATE) + p_bool(False) + p_int(-1)
        body += p_str(path) + p_buf(b"") + p_acls(ANYONE) + p_int(0)
    body += p_int(-1) + p_bool(True) + p_int(-1)
    r = client.call(OP_MULTI, body)
    op_type, _, err = r.body.int(), r.body.bool(), r.body.int()
    return r.body.int() if op_type == -1 else err


def test_enforced_hard_limits_refuse_and_soft_limits_pass(server_factory, client_factory):
    """kazoo 2.8 cannot take QUOTAEXCEEDED (-125): its reader drops the connection on an error
    code it does not know. The writes that must fail go over the raw wire instead."""
    server = server_factory(enforceQuota="true")
    zk = client_factory(server)
    zk.create("/capped", b"")
    zk.create("/soft", b"")
    zkcli(server, "setquota -N 3 /capped", "setquota -B 10 /capped", "setquota -n 2 /soft",
          "setquota -b 4 /soft")
    zk.create("/capped/a", b"12345")
    zk.create("/capped/b", b"")
    wire = WireClient(server.port)
    try:
        assert wire.create("/capped/c")[0] == QUOTA_EXCEEDED, "a 4th node passes countHardLimit"
        assert wire.set("/capped/b", b"123456")[0] == QUOTA_EXCEEDED, "11 bytes pass 10"
        assert wire.set("/capped/b", b"12345")[0] == 0, "exactly the hard limit is allowed"
        assert multi_create(wire, "/capped/d") == QUOTA_EXCEEDED
        assert wire.exists("/capped/c")[0] == NO_NODE and wire.exists("/capped/d")[0] == NO_NODE
    finally:
        wire.close()
    assert stats_of(zk, "/capped") == "count=3,bytes=10"
    # Soft limits are only reported.
    for name in ("x", "y", "z"):
        zk.create(f"/soft/{name}", b"data!")
    assert stats_of(zk, "/soft") == "count=4,bytes=15"
    # ZooKeeper's per-namespace quota metrics (mntr prints a set as <key>_<name>): the hard
    # limit where set, else the soft one; the stats; the refusals.
    mntr = mntr_of(server)
    assert {k: v for k, v in mntr.items() if "_quota_" in k} == {
        "zk_capped_quota_count_limit_per_namespace": "3",
        "zk_capped_quota_bytes_limit_per_namespace": "10",
        "zk_capped_quota_count_usage_per_namespace": "3",
        "zk_capped_quota_bytes_usage_per_namespace": "10",
        "zk_capped_quota_exceeded_error_per_namespace": "3",
        "zk_soft_quota_count_limit_per_namespace": "2",
        "zk_soft_quota_bytes_limit_per_namespace": "4",
        "zk_soft_quota_count_usage_per_namespace": "4",
        "zk_soft_quota_bytes_usage_per_namespace": "15",
    }


def test_quota_stats_survive_kill9_and_restart(server_factory, client_factory):
    server = server_factory()
    zk = client_factory(server)
    zk.create("/kept", b"")
    zkcli(server, "setquota -n 100 /kept")
    for i in range(20):
        zk.create(f"/kept/n{i}", b"v" * i)
    zk.delete("/kept/n3")
    expected = "count=20,bytes=187"  # 1 + 19 nodes; 0+1+...+19 bytes less 3
    assert stats_of(zk, "/kept") == expected
    zk.stop()
    server.kill9()
    server.start()
    zk = client_factory(server)
    assert stats_of(zk, "/kept") == expected
    zk.create("/kept/after", b"12")
    assert stats_of(zk, "/kept") == "count=21,bytes=189"


def test_a_member_synced_by_snap_keeps_the_quota_stats(tmp_path, client_factory):
    """A member that comes back with an empty data directory gets the leader's tree by SNAP (more
    txns than the leader keeps in memory for a DIFF); its quota stats are the leader's, and it
    goes on maintaining them as the ensemble writes."""
    ens = Ensemble(str(tmp_path), voters=3)
    try:
        ens.start()
        leader = ens.wait_serving()
        lagging = next(m for m in ens.members.values() if m is not leader)
        lagging.stop()
        shutil.rmtree(os.path.join(lagging.data_dir, "version-2"), ignore_errors=True)
        zk = client_factory(leader)
        zk.create("/bulk", b"")
        zkcli(leader, "setquota -n 10000 /bulk")
        for i in range(600):
            zk.create(f"/bulk/n{i:03}", b"x" * (i % 7))
        expected = stats_of(zk, "/bulk")
        assert expected == f"count=601,bytes={sum(i % 7 for i in range(600))}"
        lagging.launch()
        ens.wait_serving()
        there = client_factory(lagging)
        there.sync("/bulk")
        assert stats_of(there, "/bulk") == expected
        zk.create("/bulk/after-snap", b"12")
        there.sync("/bulk")
        assert stats_of(there, "/bulk") == stats_of(zk, "/bulk")
    finally:
        ens.stop()
