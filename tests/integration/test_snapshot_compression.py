"""ZooKeeper 3.8's compressed snapshots (zookeeper.snapshot.compression.method = gz | snappy),
both ways, with real servers: snapshots the server under test (ZK_IMPL) writes compressed are
named as ZooKeeper names them and ZooKeeper 3.8 starts from them; snapshots ZooKeeper 3.8 writes
compressed are loaded by the server under test. In each direction the logs that the newest
snapshot covers are removed first (as autopurge would), so the data can only come back through
the compressed snapshot."""

import os
import re
import sys

import pytest
from kazoo.client import KazooClient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zkref  # noqa: E402

pytestmark = pytest.mark.skipif(not zkref.available(), reason="reference ZooKeeper not installed")

METHODS = ["gz", "snappy"]
DEADLINE_S = 30


def workload(client):
    client.create("/c", b"\x00root\xff")
    for i in range(40):  # several snapshots at snapCount=10
        client.create(f"/c/n{i}", (f"value {i} " * 20).encode())
        client.set(f"/c/n{i}", f"again {i}".encode())
    client.delete("/c/n7")


def contents(client, path="/c"):
    """path -> (data, version, czxid, mzxid, numChildren) of every node under `path`."""
    data, stat = client.get(path)
    out = {path: (data, stat.version, stat.czxid, stat.mzxid, stat.numChildren)}
    for child in client.get_children(path):
        out.update(contents(client, f"{path}/{child}"))
    return out


def with_client(port, action):
    client = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10)
    client.start(timeout=DEADLINE_S)
    try:
        return action(client)
    finally:
        client.stop()
        client.close()


def snapshot_zxid(name):
    return int(name.split(".")[1], 16)


def keep_only_what_the_newest_snapshot_needs(version_dir, method):
    """Removes older snapshots and the logs wholly before the newest (compressed) snapshot:
    what is left can only be recovered through it."""
    snaps = [f for f in os.listdir(version_dir)
             if re.fullmatch(rf"snapshot\.[0-9a-f]+\.{method}", f)]
    assert snaps, f"no snapshot.*.{method} in {sorted(os.listdir(version_dir))}"
    newest = max(snaps, key=snapshot_zxid)
    for f in os.listdir(version_dir):
        if f.startswith("snapshot.") and f != newest:
            os.remove(os.path.join(version_dir, f))
    logs = sorted((f for f in os.listdir(version_dir) if f.startswith("log.")), key=snapshot_zxid)
    covering = [f for f in logs if snapshot_zxid(f) <= snapshot_zxid(newest)]
    for f in covering[:-1]:  # the last of them may hold txns after the snapshot
        os.remove(os.path.join(version_dir, f))
    assert covering[:-1], f"no log before {newest} to remove: {logs}"
    return newest


@pytest.mark.parametrize("method", METHODS)
def test_compressed_snapshots_written_here_start_zookeeper(server_factory, tmp_path, method):
    server = server_factory(snapCount=10, **{"snapshot__compression__method": method})
    expected = with_client(server.port, lambda c: (workload(c), contents(c))[1])
    server.stop()
    version_dir = os.path.join(server.data_dir, "version-2")
    keep_only_what_the_newest_snapshot_needs(version_dir, method)

    with zkref.ReferenceZooKeeper(tmp_path / "reference", server.data_dir) as zk:
        assert with_client(zk.port, contents) == expected


@pytest.mark.parametrize("method", METHODS)
def test_compressed_snapshots_written_by_zookeeper_are_loaded_here(server_factory, tmp_path,
                                                                   method):
    data = tmp_path / "from-zookeeper"
    with zkref.ReferenceZooKeeper(tmp_path / "reference", data, snapCount=10,
                                  **{"snapshot.compression.method": method}) as zk:
        expected = with_client(zk.port, lambda c: (workload(c), contents(c))[1])
    newest = keep_only_what_the_newest_snapshot_needs(data / "version-2", method)

    server = server_factory(dataDir=str(data))
    assert with_client(server.port, contents) == expected
    if server.impl == "zookube":
        with open(server.log_path, errors="replace") as f:
            assert f"from {newest} and" in f.read()
