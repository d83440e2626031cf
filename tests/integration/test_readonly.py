"""Read-only mode (readonlymode.enabled=true): a member cut off from its quorum keeps serving
reads to clients that allow it, refuses their writes, and returns to normal with its quorum."""

import os

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NotReadOnlyCallError
from kazoo.protocol.states import KeeperState

import harness
from ensemble import Ensemble, mode_of


@pytest.fixture
def ensemble(tmp_path):
    with Ensemble(str(tmp_path), voters=3, readonlymode__enabled="true") as ens:
        yield ens


@pytest.mark.skipif(harness.impl() == "apache",
                    reason="kazoo 2.9 cannot parse the 16-byte connect response ZooKeeper 3.8's "
                    "read-only server sends a new read-only session (struct.error in "
                    "Connect.deserialize); the member side (isro, srvr) was checked to agree")
def test_a_member_without_quorum_serves_reads_read_only(ensemble, client_factory):
    leader = ensemble.leader()
    path = f"/ro_{os.getpid()}"
    client_factory(ensemble.hosts).create(path, b"before the partition")
    lone = ensemble.followers()[0]
    client_factory(lone.hosts).sync(path)
    assert lone.four("isro") == "rw"
    stopped = [m for m in ensemble.members.values() if m is not lone]
    for member in stopped:
        member.stop()
    harness.wait_until(lambda: lone.four("isro") == "ro", timeout=30,
                       what="the lone member to turn read-only")
    assert mode_of(lone) == "read-only"

    ro = client_factory(lone.hosts, read_only=True)
    assert ro.client_state == KeeperState.CONNECTED_RO
    assert ro.get(path)[0] == b"before the partition"
    with pytest.raises(NotReadOnlyCallError):
        ro.create(path + "/new")
    with pytest.raises(NotReadOnlyCallError):
        ro.set(path, b"changed")

    normal = KazooClient(hosts=lone.hosts, timeout=4.0)
    with pytest.raises(Exception):
        normal.start(timeout=3)  # a client that does not allow read-only mode is refused
    normal.stop()
    normal.close()

    for member in stopped:
        member.launch()
    ensemble.wait_serving()
    assert lone.four("isro") == "rw"
    assert leader.alive()
    writer = client_factory(lone.hosts)
    writer.set(path, b"after")
    assert writer.get(path)[0] == b"after"
