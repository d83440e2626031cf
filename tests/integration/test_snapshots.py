"""Snapshot scheduling: how much log a restart has to replay after a burst of writes."""

import re
import time

import pytest
from kazoo.client import KazooClient

import harness

pytestmark = pytest.mark.skipif(harness.impl() != "zookube",
                                reason="ZooKeeper skips a snapshot that falls due during another")

SNAP_COUNT = 200  # a snapshot falls due after 101 to 200 txns
NODES = 20000  # of 1 KiB: a snapshot takes long enough for that many writes to arrive
BURST = 40
DEADLINE_S = 60
DEFERRED = "starts when that one is done"
REPLAYED = re.compile(r"recovered .* and (\d+) logged txns in")


def log_text(server):
    with open(server.log_path, errors="replace") as f:
        return f.read()


def snapshot_after_deferral_written(server):
    text = log_text(server)
    last_deferral = text.rfind(DEFERRED)
    started_after = text.find("writing snapshot.", last_deferral)
    return started_after >= 0 and text.count("writing snapshot.") == text.count(" written (")


def test_a_snapshot_due_during_another_is_taken_after_it(server_factory):
    server = server_factory(snapCount=SNAP_COUNT)
    client = KazooClient(hosts=server.hosts, timeout=10)
    client.start(timeout=10)
    try:
        client.create("/big")
        for batch in range(NODES // 500):  # 40 txns: too few for a snapshot to fall due
            tx = client.transaction()
            for i in range(500):
                tx.create(f"/big/n{batch * 500 + i}", b"x" * 1024)
            assert all(isinstance(r, str) for r in tx.commit())
        # Bursts of pipelined writes until one falls due while a snapshot is being written.
        deadline = time.monotonic() + DEADLINE_S
        while DEFERRED not in log_text(server):
            assert time.monotonic() < deadline, "no snapshot fell due during another"
            replies = [client.set_async(f"/big/n{i}", b"y" * 100) for i in range(BURST)]
            for reply in replies:
                reply.get(timeout=30)
        # Writing stopped within one burst of the deferral. The deferred snapshot starts once
        # the one before it is done, and covers every write applied by then.
        harness.wait_until(lambda: snapshot_after_deferral_written(server), timeout=DEADLINE_S,
                           what="the deferred snapshot to be written")
    finally:
        client.stop()
        client.close()
    # So a restart replays at most that last burst and the session's close. Had the due
    # snapshot been skipped, as ZooKeeper does, at least the 101 writes that made it due would
    # be replayed as well.
    server.restart()
    replayed = [int(n) for n in REPLAYED.findall(log_text(server))]
    assert replayed[-1] <= BURST + 1, server.log_tail()
    client = KazooClient(hosts=server.hosts, timeout=10)
    client.start(timeout=10)
    try:
        assert len(client.get_children("/big")) == NODES
        assert client.get("/big/n0")[0] == b"y" * 100
    finally:
        client.stop()
        client.close()
