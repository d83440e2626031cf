"""On-disk compatibility with Apache ZooKeeper 3.8, both ways:
(1) a data directory written by ZooKeeper is recovered by zookube's storage exactly;
(2) files written by zookube's storage are read by ZooKeeper's own tools and server.

Run: /usr/bin/python3 -m pytest tests/integration/test_storage_compat.py
(ZOOKUBE_BUILD_DIR picks the build with the zookube-dump binary.)
"""

import base64
import json
import os
import re
import subprocess
import sys

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id, make_digest_acl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import zkref  # noqa: E402

DUMP = os.path.join(harness.build_dir(), "server", "zookube-dump")
DEADLINE_S = 60
SECRET = make_digest_acl("user", "password", all=True)

pytestmark = [
    pytest.mark.skipif(not zkref.available(), reason="Apache ZooKeeper jars not installed"),
    pytest.mark.skipif(not os.path.exists(DUMP), reason=f"{DUMP} not built"),
]


def dump(*args):
    out = subprocess.run([DUMP, *map(str, args)], capture_output=True, text=True,
                         timeout=DEADLINE_S, check=True)
    return out.stdout


def walk(client, path="/"):
    """Every node as ZooKeeper reports it: path -> (data, stat, acl)."""
    data, stat = client.get(path)
    acl, _ = client.get_acls(path)
    nodes = {path: (data, stat, acl)}
    for child in client.get_children(path):
        nodes.update(walk(client, path.rstrip("/") + "/" + child))
    return nodes


def write_workload(client):
    binary = bytes(range(256))
    client.create("/compat", b"\x00\x01\xfe\xff")
    client.create("/compat/binary", binary)
    for i in range(3):
        client.create("/compat/seq-", str(i).encode(), sequence=True)
    client.create("/compat/eph", b"ephemeral", ephemeral=True)
    client.create("/compat/secret", b"s", acl=[SECRET, ACL(1, Id("world", "anyone"))])
    for i in range(25):  # enough txns for several snapshots with snapCount=10
        client.create(f"/compat/n{i}", f"value {i}".encode())
        client.set(f"/compat/n{i}", f"value {i} again".encode())
    client.delete("/compat/n3")
    client.set_acls("/compat/n4", [ACL(31, Id("world", "anyone")), ACL(1, Id("ip", "127.0.0.1"))])


def test_zookube_recovers_a_dataDir_written_by_zookeeper(tmp_path):
    data, logs = tmp_path / "data", tmp_path / "logs"
    with zkref.ReferenceZooKeeper(tmp_path / "zk", data, logs, snapCount=10,
                                  preAllocSize=1024) as zk:
        client = KazooClient(hosts=f"127.0.0.1:{zk.port}", timeout=10)
        client.start(timeout=DEADLINE_S)
        try:
            write_workload(client)
            expected = walk(client)
            session = client.client_id[0]
            zk.stop()  # with the session open, so its ephemeral stays on disk
        finally:
            client.stop()
            client.close()

    snaps = sorted((data / "version-2").glob("snapshot.*"),
                   key=lambda p: int(p.name.split(".", 1)[1], 16))
    assert len(snaps) >= 2, snaps
    assert list((logs / "version-2").glob("log.*"))
    # ZooKeeper's last snapshot may fall on the workload's last txn (its timing is random), and
    # then no txn is left to replay; without it the older snapshot and the logs must add up.
    snaps[-1].unlink()
    got = json.loads(dump("--json", data, logs))
    assert got["txnsReplayed"] > 0
    assert {s["id"]: s["timeout"] for s in got["sessions"]}.get(session)

    nodes = {n["path"]: n for n in got["nodes"]}
    assert sorted(nodes) == sorted(expected)
    for path, (value, stat, acl) in expected.items():
        node = nodes[path]
        assert bytes.fromhex(node["data"]) == value, path
        for field in ("czxid", "mzxid", "pzxid", "ctime", "mtime", "version", "aversion",
                      "numChildren"):
            assert node[field] == getattr(stat, field), (path, field)
        # Stored cversion counts creates; clients see it as ZooKeeper's DataNode.copyStat does.
        assert node["cversion"] * 2 - node["numChildren"] == stat.cversion, path
        assert node["ephemeralOwner"] == stat.ephemeralOwner, path
        assert [(a["perms"], a["scheme"], redact(a["scheme"], a["id"])) for a in node["acl"]] == \
            [(a.perms, a.id.scheme, a.id.id) for a in acl], path
    assert nodes["/compat/eph"]["ephemeralOwner"] == session
    assert nodes["/compat/secret"]["acl"][0]["id"] == SECRET.id.id


def redact(scheme, ident):
    """getACL shows a digest as "user:x" to clients without ADMIN (ZooKeeper 3.8)."""
    return ident.split(":")[0] + ":x" if scheme == "digest" else ident


def test_zookeeper_reads_files_written_by_zookube(tmp_path):
    data = tmp_path / "sample"
    dump("--write-sample", data)
    files = sorted(os.listdir(data / "version-2"))
    logs = [f for f in files if f.startswith("log.")]
    snaps = [f for f in files if f.startswith("snapshot.")]
    assert len(logs) == 2 and len(snaps) == 2, files

    txns = ""
    for log in logs:
        code, out = zkref.run_tool("org.apache.zookeeper.server.persistence.TxnLogToolkit",
                                   data / "version-2" / log)
        assert code == 0, out
        txns += out
    assert "createSession" in txns and "/zookube/binary" in txns, txns
    assert "/zookube/after-snapshot" in txns, txns
    counts = [int(n) for n in re.findall(r"EOF reached after (\d+) txns", txns)]
    assert sum(counts) == 8, txns  # every txn the sample wrote, none rejected

    newest = max(snaps, key=lambda f: int(f.split(".")[1], 16))
    code, out = zkref.run_tool("org.apache.zookeeper.server.SnapshotFormatter", "-d",
                               data / "version-2" / newest)
    assert code == 0, out
    for path in ("/zookube", "/zookube/binary", "/zookube/eph", "/zookube/secret"):
        assert f"\n{path}\n" in out, out
    assert base64.b64encode(b"\x00\x01\x02\xff").decode() in out, out
    assert "0x5a00000000000001, 30000, 1" in out, out  # session, timeout, ephemerals

    # ZooKeeper itself starts from our snapshot + logs and serves the replayed state.
    with zkref.ReferenceZooKeeper(tmp_path / "zk", data) as zk:
        client = KazooClient(hosts=f"127.0.0.1:{zk.port}", timeout=10)
        client.start(timeout=DEADLINE_S)
        try:
            assert client.get("/zookube")[0] == b"hello again"
            assert client.get("/zookube/binary")[0] == b"\x00\x01\x02\xff"
            assert client.get("/zookube/after-snapshot")[0] == b"late"
            with pytest.raises(NoAuthError):  # its digest-only ACL came back too
                client.get("/zookube/secret")
        finally:
            client.stop()
            client.close()
