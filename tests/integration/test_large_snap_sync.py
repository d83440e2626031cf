"""A learner synced by SNAP from a large tree, at short timeouts (tickTime 200 ms, initLimit and
syncLimit 5 ticks: one second). The leader must neither stall its event loop for a time that
grows with the tree while it streams the snapshot (its other follower's pings and its clients'
requests go on), nor drop the learner, and the learner must load it without timing out.

LARGE_SNAP_ZNODES sets the tree's size (1,000,000 for the manual run the issue asks for); the
default is what CI can populate in well under a minute yet what the event-loop-bound SNAP of
earlier builds could not stream and load without a read on the leader waiting longer than
the bound checked below."""

import os
import shutil
import struct
import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.states import KazooState

import harness
import zkwire
from ensemble import Ensemble, mode_of

ZNODES = int(os.environ.get("LARGE_SNAP_ZNODES", "200000"))
PER_MULTI = 1000  # creates per multi request: small data, well under jute.maxbuffer
WINDOW = 16  # multis in flight on the one connection
TICK_MS = 200
# A read on the leader may wait this long at most while it streams the snapshot: a tick.
MAX_READ_WAIT_S = float(os.environ.get("LARGE_SNAP_MAX_READ_WAIT_S", "0.5"))
AFTER_STOP = 600  # a leader keeps 500 committed txns for DIFF
SYNC_DEADLINE_S = 60 + ZNODES / 5000


def multi_of_creates(paths):
    body = b""
    for path in paths:
        body += (zkwire.p_int(zkwire.OP_CREATE) + zkwire.p_bool(False) + zkwire.p_int(-1) +
                 zkwire.p_str(path) + zkwire.p_buf(b"v") + zkwire.p_acls(zkwire.ANYONE) +
                 zkwire.p_int(0))
    return body + zkwire.p_int(-1) + zkwire.p_bool(True) + zkwire.p_int(-1)


def first_op_failed(reply):
    (op_type, ) = struct.unpack(">i", reply.body.take(4))
    return op_type == -1


def pipelined(member, requests):
    """Sends (op, body) requests WINDOW at a time on one raw connection; each must succeed."""
    client = zkwire.WireClient(member.port, timeout_ms=30000, io_timeout=120.0)
    try:
        sent = answered = 0
        while answered < len(requests):
            while sent < len(requests) and sent - answered < WINDOW:
                client.send(*requests[sent])
                sent += 1
            reply = client._read()
            failed = requests[answered][0] == zkwire.OP_MULTI and first_op_failed(reply)
            assert reply.err == 0 and not failed, f"request {answered} failed"
            answered += 1
    finally:
        client.close()


def populate(member, parents, per_parent):
    """Creates parents x per_parent znodes under /big, PER_MULTI per multi request."""
    requests = [(zkwire.OP_MULTI, multi_of_creates(["/big"]))]
    for p in range(parents):
        requests.append((zkwire.OP_MULTI, multi_of_creates([f"/big/p{p:04}"])))
        names = [f"/big/p{p:04}/n{i:04}" for i in range(per_parent)]
        for at in range(0, len(names), PER_MULTI):
            requests.append((zkwire.OP_MULTI, multi_of_creates(names[at:at + PER_MULTI])))
    pipelined(member, requests)


def create_request(path):
    return (zkwire.OP_CREATE, zkwire.p_str(path) + zkwire.p_buf(b"") +
            zkwire.p_acls(zkwire.ANYONE) + zkwire.p_int(0))


def count_under(member, path):
    client = zkwire.WireClient(member.port)
    try:
        client.call(zkwire.OP_SYNC, zkwire.p_str(path))
        err, count = client.all_children_number(path)
        assert err == 0
        return count
    finally:
        client.close()


def epoch_of(member):
    zxid = next(line for line in member.four("srvr").splitlines() if line.startswith("Zxid:"))
    return int(zxid.split(":")[1].strip(), 16) >> 32


def vm_hwm_kib(member):
    with open(f"/proc/{member.proc.pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


class ReadProbe:
    """Reads from the leader every 20 ms and keeps the longest wait for an answer."""

    def __init__(self, member):
        self.client = zkwire.WireClient(member.port, timeout_ms=10000, io_timeout=30.0)
        self.longest = 0.0
        self.failed = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        try:
            while not self.stop.is_set():
                began = time.monotonic()
                err, _ = self.client.exists("/big")
                assert err == 0
                self.longest = max(self.longest, time.monotonic() - began)
                time.sleep(0.02)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.failed = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)
        self.client.close()


def snaps_received(learner):
    with open(learner.log_path, errors="replace") as f:
        log = f.read()
    return log.count("Getting a snapshot from leader" if learner.impl == "apache" else
                     "SNAP at 0x")


def test_a_learner_syncs_a_large_tree_by_snap_at_short_timeouts(tmp_path, monkeypatch):
    # ZooKeeper holds about 200 bytes of heap per small znode, and two trees while it loads one.
    monkeypatch.setenv("REFZK_HEAP", f"{max(256, ZNODES // 500)}m")
    per_parent = 1000
    parents = max(1, ZNODES // per_parent)
    with Ensemble(str(tmp_path), voters=3, tick_ms=TICK_MS, initLimit=5,
                  syncLimit=5) as ens:
        leader = ens.leader()
        began = time.monotonic()
        populate(leader, parents, per_parent)
        print(f"\npopulated {parents * per_parent} znodes in {time.monotonic() - began:.1f}s")
        lagging, other = [m for m in ens.voters if m is not leader]
        epoch = epoch_of(leader)

        # The other follower's client must keep its session all along: no leader loss.
        watched = KazooClient(hosts=other.hosts, timeout=4.0)
        states = []
        watched.add_listener(states.append)
        watched.start(timeout=30)
        try:
            lagging.stop()
            # Without its data it is sent the whole tree (SNAP), whatever the leader's log holds.
            shutil.rmtree(os.path.join(lagging.data_dir, "version-2"))
            # More txns than the leader keeps for a DIFF, in case it has them all.
            watched.create("/after-stop", b"")
            pipelined(other, [create_request(f"/after-stop/n{i}") for i in range(AFTER_STOP)])
            hwm_before = vm_hwm_kib(leader)
            with ReadProbe(leader) as probe:
                began = time.monotonic()
                lagging.launch()
                try:
                    harness.wait_until(lambda: mode_of(lagging) == "follower",
                                       timeout=SYNC_DEADLINE_S, interval=0.1,
                                       what="the emptied follower synced")
                    synced = f"{time.monotonic() - began:.2f}s"
                except TimeoutError:
                    synced = "not done"
            print(f"{leader.impl}: SNAP sync of {parents * per_parent} znodes: {synced}; "
                  f"longest leader read {probe.longest * 1000:.0f} ms; "
                  f"leader VmHWM {hwm_before} -> {vm_hwm_kib(leader)} KiB")
            assert synced != "not done", "the emptied follower did not sync"
            assert probe.failed is None, f"the leader stopped answering: {probe.failed}"
            # One SNAP: the sync did not time out and start over.
            assert snaps_received(lagging) == 1
            assert mode_of(leader) == "leader" and epoch_of(leader) == epoch, "a re-election"
            assert KazooState.LOST not in states and KazooState.SUSPENDED not in states
            assert probe.longest < MAX_READ_WAIT_S, (
                f"a read on the leader waited {probe.longest:.2f}s during the SNAP")
            assert count_under(lagging, "/big") == parents * (per_parent + 1)
            assert count_under(lagging, "/after-stop") == AFTER_STOP
            assert watched.exists("/after-stop") is not None
        finally:
            watched.stop()
            watched.close()
