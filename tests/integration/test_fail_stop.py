"""Fail-stop: an ensemble member whose log or epochs can no longer be written exits with one
line saying what failed and where (exit status 3 for zookube), the supervisor - here the test -
restarts it without the fault, it rejoins from its disk, no acknowledged write is lost and every
member ends with the same tree.

Disk errors come from libfail_io.so (tests/faults/fail_io.cpp) preloaded into every member and
armed at runtime by creating the member's trigger file. A damaged SNAP comes from a proxy on the
learner's quorum link (quorum_proxy.py). ZooKeeper (ZK_IMPL=apache) gets the same faults; where
it behaves differently the test says so.
"""

import glob
import os
import re
import shutil

import pytest
from kazoo.client import KazooClient

import disk_faults
import harness
from ensemble import Ensemble, mode_of
from quorum_proxy import QuorumProxy
from writer import Writer

pytestmark = pytest.mark.skipif(harness.impl() not in ("zookube", "apache"),
                                reason="unknown ZK_IMPL")

FAIL_STOP_EXIT = 3  # server/util/fail_stop.h
EXIT_DEADLINE_S = 30.0


def trigger_of(member):
    return os.path.join(member.workdir, "fail-io.armed")


def log_pattern(member):
    return os.path.join(member.data_dir, "version-2", "log.")


def epoch_pattern(member):
    # Each member has its own environment, so the name alone selects its file (zookube keeps it
    # in dataDir, ZooKeeper in dataDir/version-2).
    return "acceptedEpoch"


@pytest.fixture
def ensemble(tmp_path):
    ens = Ensemble(str(tmp_path / "ensemble"), voters=3)
    try:
        yield ens
    finally:
        ens.stop()


def start_with_fault(ens, pattern_of, calls=""):
    """Starts every member with the shim preloaded, disarmed, failing `calls` (all by default)
    on the files pattern_of names."""
    for member in ens.members.values():
        disk_faults.disarm(trigger_of(member))
        member.env = disk_faults.disk_error_env(harness.build_dir(), pattern_of(member),
                                           trigger_of(member), calls)
    ens.start()


def wait_stopped(member, apache_sign):
    """Waits for the member to give up after the disk error; returns its exit status.

    ZooKeeper 3.8 (ZK_IMPL=apache) exits only on some of these errors: when its SyncThread dies
    on a log IOException it stops serving, goes back to looking, rejoins and fails again until
    a TRUNC fails (exit 13). There the member counts as stopped once its log shows apache_sign;
    the test then kills it, as a supervisor whose liveness probe failed would, and its exit
    status is reported as None."""
    def stopped():
        if member.proc.poll() is not None:
            return True
        if harness.impl() != "apache":
            return False
        with open(member.log_path, errors="replace") as f:
            return apache_sign in f.read()

    harness.wait_until(stopped, timeout=EXIT_DEADLINE_S, interval=0.1,
                       what=f"member {member.myid} to stop after the disk error")
    code = member.proc.poll()
    member.kill9()
    return code


def fail_stop_lines(member):
    with open(member.log_path, errors="replace") as f:
        return [line for line in f if "fail-stop:" in line]


def check_fail_stopped(member, code, where, cause="Input/output error"):
    """The member stopped the way docs/guarantees.md says: one line naming where and what."""
    if harness.impl() == "apache":
        assert code != 0, member.log_tail()  # None: stopped serving, killed by the test
        return
    assert code == FAIL_STOP_EXIT, member.log_tail()
    lines = fail_stop_lines(member)
    assert len(lines) == 1, lines
    assert where in lines[0] and cause in lines[0], lines[0]


def restart_without_fault(ens, member):
    disk_faults.disarm(trigger_of(member))
    member.env = {}
    member.launch()
    ens.wait_serving(timeout=60)


def tree_of(member):
    """Every znode under / (but /zookeeper) with its data and Stat, read through this member
    after a sync, so it reflects everything the ensemble committed before the call."""
    zk = KazooClient(hosts=member.hosts, timeout=10.0)
    zk.start(timeout=15)
    try:
        zk.sync("/")
        nodes, todo = {}, ["/"]
        while todo:
            path = todo.pop()
            data, stat = zk.get(path)
            nodes[path] = (data, stat.czxid, stat.mzxid, stat.pzxid, stat.version,
                           stat.cversion, stat.aversion, stat.ephemeralOwner)
            for child in zk.get_children(path):
                child_path = path.rstrip("/") + "/" + child
                if child_path != "/zookeeper":
                    todo.append(child_path)
        return nodes
    finally:
        zk.stop()
        zk.close()


def check_converged(ens, writer):
    assert writer.lost() == [], "acknowledged writes lost"
    trees = {sid: tree_of(m) for sid, m in ens.members.items()}
    first = trees[1]
    assert len(first) > len(writer.acked)
    for sid, tree in trees.items():
        differing = sorted(p for p in set(first) | set(tree) if first.get(p) != tree.get(p))
        assert not differing, f"member {sid} differs from member 1 at {differing[:5]}"


def fail_member_log(ens, member, writer):
    disk_faults.arm(trigger_of(member))
    code = wait_stopped(member, "Severe unrecoverable error")
    check_fail_stopped(member, code, log_pattern(member))
    restart_without_fault(ens, member)
    writer.wait_for_more(50)


@pytest.mark.parametrize("calls", ["write,pwrite,writev", "fsync,fdatasync"],
                         ids=["write", "fsync"])
def test_a_follower_then_the_leader_whose_log_fails_stop_and_rejoin(ensemble, client_factory,
                                                                    calls):
    start_with_fault(ensemble, log_pattern, calls)
    zk = client_factory(ensemble.hosts)
    zk.ensure_path("/failstop")
    with Writer(zk, "/failstop") as writer:
        writer.wait_for_more(50)
        fail_member_log(ensemble, ensemble.followers()[0], writer)
        fail_member_log(ensemble, ensemble.leader(), writer)
    check_converged(ensemble, writer)


@pytest.mark.skipif(harness.impl() == "apache",
                    reason="ZooKeeper 3.8 does not stop on a failed acceptedEpoch write: the "
                           "learner stays up, fails the write at every attempt to follow, and "
                           "with one member down the ensemble has no quorum (seen by running it)")
def test_a_member_whose_epoch_write_fails_stops_and_rejoins(ensemble, client_factory):
    start_with_fault(ensemble, epoch_pattern)
    zk = client_factory(ensemble.hosts)
    zk.ensure_path("/epochs")
    with Writer(zk, "/epochs") as writer:
        writer.wait_for_more(30)
        leader = ensemble.leader()
        follower = ensemble.followers()[0]
        disk_faults.arm(trigger_of(follower))
        leader.kill9()  # the next election writes a new acceptedEpoch on every voter
        code = wait_stopped(follower, "fail_io: failing")
        check_fail_stopped(follower, code, epoch_pattern(follower))
        assert re.search(r"cannot persist the epochs", fail_stop_lines(follower)[0])
        leader.env = {}
        leader.launch()
        restart_without_fault(ensemble, follower)
        writer.wait_for_more(30)
    assert all(mode_of(m) in ("leader", "follower") for m in ensemble.members.values())
    check_converged(ensemble, writer)


def snapshot_pattern(member):
    return os.path.join(member.data_dir, "version-2", "snapshot.")


# The leader keeps this many committed txns for DIFF; a learner further behind gets a SNAP.
COMMIT_LOG_COUNT = 500


@pytest.mark.skipif(harness.impl() == "apache",
                    reason="ZooKeeper's leader catches this learner up from the txn log on its "
                           "disk (DIFF; zookeeper.snapshotSizeFactor), so no SNAP is sent")
def test_a_learner_that_cannot_store_its_snap_stops_and_rejoins(ensemble, client_factory):
    start_with_fault(ensemble, snapshot_pattern)
    follower = ensemble.followers()[0]
    zk = client_factory(ensemble.leader().hosts)
    zk.ensure_path("/snap")
    follower.stop()
    ensemble.wait_serving()
    for i in range(COMMIT_LOG_COUNT + 100):
        zk.create_async(f"/snap/c{i:05d}", b"y")
    zk.sync("/snap")
    disk_faults.arm(trigger_of(follower))
    follower.launch()  # behind by more than the leader's log: it is sent a SNAP
    code = wait_stopped(follower, "fail_io: failing")
    check_fail_stopped(follower, code, snapshot_pattern(follower))
    assert "SNAP at 0x" in fail_stop_lines(follower)[0]
    restart_without_fault(ensemble, follower)
    with Writer(zk, "/snap") as writer:
        writer.wait_for_more(20)
    check_converged(ensemble, writer)


def wipe(member):
    """The stopped member loses its whole dataDir (the next launch writes myid again)."""
    shutil.rmtree(member.data_dir)
    os.makedirs(member.data_dir)


def config_version(member):
    """The version of the membership the member runs, as `conf` states it (hex)."""
    for line in member.four("conf").splitlines():
        if line.startswith("version="):
            return line[len("version="):].strip()
    raise AssertionError(f"no version in conf of member {member.myid}")


def quorum_through_proxies(ens, member, rename):
    """Points the stopped member's view of every other member's quorum port at a QuorumProxy
    of its own, from its next launch on; returns the proxies (only the leader's will carry a
    SNAP). The view goes in a dynamic config file at the ensemble's current version: zookube's
    first leader gives zoo.cfg's membership a version (ZooKeeper without reconfig keeps 0), and
    a member with an older view takes its peers' at the election, while a view at the same
    version is only replaced at NEWLEADER, after the SNAP. The version is the file's name, as
    both servers read it."""
    version = config_version(ens.leader())
    for stale in glob.glob(os.path.join(member.workdir, "zoo.cfg.dynamic*")):
        os.remove(stale)
    dynamic = os.path.join(member.workdir, f"zoo.cfg.dynamic.{version}")
    proxies, lines = [], []
    for sid, other in ens.members.items():
        spec = member.cfg.pop(f"server.{sid}")
        if other is not member:
            proxy = QuorumProxy(other.quorum_port, rename)
            proxies.append(proxy)
            spec = spec.replace(f":{other.quorum_port}:", f":{proxy.port}:", 1)
        lines.append(f"server.{sid}={spec}\n")
    with open(dynamic, "w") as f:
        f.writelines(lines)
    member.cfg["dynamicConfigFile"] = dynamic
    member.cfg_changed = True
    return proxies


def log_of(member):
    with open(member.log_path, errors="replace") as f:
        return f.read()


def rejoin_after_the_bad_snap(ens, learner):
    """zookube: exit 3 naming both zxids, then a restart (the proxies relay everything
    unchanged from now on). ZooKeeper: no exit, the stream refused, a sync again by itself."""
    if harness.impl() == "apache":
        harness.wait_until(lambda: "unable to find parent" in log_of(learner),
                           timeout=EXIT_DEADLINE_S, what="ZooKeeper to refuse the SNAP")
        ens.wait_serving(timeout=60)
        assert learner.alive(), learner.log_tail()
        return
    code = wait_stopped(learner, None)
    check_fail_stopped(learner, code, "SNAP announced at 0x",
                       "but the snapshot it sent loads at 0x")
    announced, loaded = re.search(r"SNAP announced at (0x[0-9a-f]+) .* loads at (0x[0-9a-f]+)",
                                  fail_stop_lines(learner)[0]).groups()
    assert int(loaded, 16) < int(announced, 16)  # it fell back to its own older snapshot
    learner.launch()
    ens.wait_serving(timeout=60)


def test_a_learner_whose_snap_loads_at_another_zxid_stops_and_rejoins(ensemble, client_factory):
    """The leader's SNAP reaches the learner with one node moved under a parent that does not
    exist: the stream is well formed, the tree it holds cannot be built. zookube stores it,
    cannot load it, falls back to its own older snapshot, so the tree would be at another zxid
    than the SNAP announced: it fail-stops. ZooKeeper refuses the stream while reading it
    (DataTree.deserialize: "unable to find parent"), stores nothing, goes back to looking and
    syncs again by itself."""
    ensemble.start()
    follower = ensemble.followers()[0]
    zk = client_factory(ensemble.leader().hosts)
    zk.ensure_path("/snap")
    follower.kill9()
    # A learner at zxid 0 is sent a SNAP by both servers once the leader keeps fewer txns in
    # memory than it committed; ZooKeeper's txn-log sync cannot serve it either, as no txn log
    # starts at zxid 0.
    wipe(follower)
    proxies = quorum_through_proxies(ensemble, follower, (b"/snap/", b"/gone/"))
    try:
        ensemble.wait_serving()
        for i in range(COMMIT_LOG_COUNT + 100):
            zk.create_async(f"/snap/c{i:05d}", b"y")
        zk.sync("/snap")
        with Writer(zk, "/snap") as writer:
            writer.wait_for_more(10)
            follower.launch()
            harness.wait_until(lambda: any(p.renamed.is_set() for p in proxies), timeout=30,
                               what="the leader's SNAP through the proxy")
            rejoin_after_the_bad_snap(ensemble, follower)
            assert mode_of(follower) == "follower"
            writer.wait_for_more(20)
        check_converged(ensemble, writer)
    finally:
        for proxy in proxies:
            proxy.close()
