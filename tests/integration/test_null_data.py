"""Null data is not empty data: ZooKeeper keeps a znode created or set with a null buffer
(length -1) null, and getData answers null for it, through its log, its snapshots and the
SNAP and DIFF syncs of an ensemble. kazoo's own suite checks it (test_create_null_data,
test_set_null_data).
"""

import os

import harness
from ensemble import Ensemble, mode_of

NODES = {"/nulls/created-null": None, "/nulls/set-null": None, "/nulls/empty": b"",
         "/nulls/set-empty": b"", "/nulls/bytes": b"x"}


def write_nodes(zk, prefix=""):
    zk.create(prefix + "/nulls", b"")
    zk.create(prefix + "/nulls/created-null", None)
    zk.create(prefix + "/nulls/set-null", b"not none")
    zk.set(prefix + "/nulls/set-null", None)
    zk.create(prefix + "/nulls/empty", b"")
    zk.create(prefix + "/nulls/set-empty", None)
    zk.set(prefix + "/nulls/set-empty", b"")
    zk.create(prefix + "/nulls/bytes", b"x")


def read_nodes(zk, prefix=""):
    out = {}
    for path in NODES:
        value, stat = zk.get(prefix + path)
        assert stat.dataLength == len(value or b"")
        out[path] = value
    return out


def test_null_and_empty_data_stay_apart(zk, base):
    write_nodes(zk, base)
    assert read_nodes(zk, base) == NODES
    # (A multi's null data is in test_wire_replies: kazoo's transactions refuse None.)


def test_null_data_survives_the_log_and_snapshots(server_factory, client_factory):
    server = server_factory(snapCount=20)
    zk = client_factory(server)
    write_nodes(zk)
    zk.stop()
    # Replayed from the transaction log.
    server.restart()
    zk = client_factory(server)
    assert read_nodes(zk) == NODES
    # Enough writes for snapshots to hold the nodes (snapCount 20: one by 20 to 40 txns).
    for i in range(60):
        zk.create(f"/filler{i}", b"")
    snapshots = os.listdir(os.path.join(server.data_dir, "version-2"))
    assert any(name.startswith("snapshot.") for name in snapshots), snapshots
    zk.stop()
    server.restart(crash=True)
    zk = client_factory(server)
    assert read_nodes(zk) == NODES


def test_null_data_reaches_learners_by_diff_and_snap(tmp_path, client_factory):
    with Ensemble(str(tmp_path / "ens"), voters=3) as ens:
        leader = ens.leader()
        behind = [m for m in ens.voters if m is not leader][0]
        behind.stop()
        zk = client_factory(leader)
        write_nodes(zk)
        # Restarted with its data: the leader sends the missed txns (DIFF).
        behind.start()
        harness.wait_until(lambda: mode_of(behind) == "follower", timeout=30,
                           what="the follower back")
        assert read_synced(client_factory, behind) == NODES
        # Restarted without data: the leader sends its whole tree (SNAP).
        other = [m for m in ens.voters if m is not leader and m is not behind][0]
        other.stop()
        version_dir = os.path.join(other.data_dir, "version-2")
        for name in os.listdir(version_dir):
            os.remove(os.path.join(version_dir, name))
        other.start()
        harness.wait_until(lambda: mode_of(other) == "follower", timeout=30,
                           what="the emptied follower back")
        assert read_synced(client_factory, other) == NODES


def read_synced(client_factory, member):
    zk = client_factory(member)
    zk.sync("/nulls")
    return read_nodes(zk)
