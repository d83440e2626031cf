"""A member whose log holds a txn the ensemble never committed is told TRUNC when it rejoins: it
drops the txn, reloads its tree from its snapshot and log, and serves the ensemble's data.

The txn is made by freezing both followers (SIGSTOP), so the leader logs a proposal nobody acks,
then killing every member: the followers with the proposal still unread in their sockets, so it
reaches no other log. The two followers restart and elect a new leader without the old one; the
old leader's restart replays the orphan into its tree, and the new leader's TRUNC takes it out.
If the TRUNC cannot be carried out on disk, the member stops (fail-stop) instead of serving the
orphan, and its restart on a working disk truncates and rejoins."""

import glob
import os
import signal

import disk_faults
import harness
from ensemble import Ensemble, mode_of

FAIL_STOP_EXIT = 3  # server/util/fail_stop.h
ZOOKEEPER_TRUNC_FAILED_EXIT = 13  # ZooKeeper's ExitCode.QUORUM_PACKET_ERROR
EXIT_DEADLINE_S = 30.0


def logged(member, marker):
    for path in glob.glob(os.path.join(member.data_dir, "version-2", "log.*")):
        with open(path, "rb") as f:
            if marker in f.read():
                return True
    return False


def make_orphan(ens, client_factory):
    """Leaves the old leader stopped with a logged txn the ensemble never committed, and the two
    others serving under a new leader without it. Returns (old leader, new leader)."""
    old = ens.leader()
    followers = ens.followers()
    zk = client_factory(old)
    zk.create("/kept", b"committed")
    for member in followers:
        os.kill(member.proc.pid, signal.SIGSTOP)
    try:
        zk.create_async("/orphan-never-committed", b"x")
        harness.wait_until(lambda: logged(old, b"/orphan-never-committed"), timeout=10,
                           what="the leader to log the proposal")
        old.kill9()
    finally:
        for member in followers:
            member.kill9()  # SIGKILL ends a stopped process; its unread socket data goes
    for member in followers:
        member.launch()
    new = ens.wait_serving()
    assert new is not old
    return old, new


def check_rejoined_without_the_orphan(ens, old, new, client_factory):
    ens.wait_serving()
    assert mode_of(old) == "follower"
    rejoined = client_factory(old)
    rejoined.sync("/")
    assert rejoined.exists("/orphan-never-committed") is None
    assert rejoined.get("/kept")[0] == b"committed"
    rejoined.create("/after", b"y")
    other = client_factory(new)
    other.sync("/after")
    assert other.get("/after")[0] == b"y"


def test_a_rejoining_member_truncates_a_txn_the_ensemble_never_committed(tmp_path,
                                                                          client_factory):
    with Ensemble(str(tmp_path)) as ens:
        old, new = make_orphan(ens, client_factory)
        old.launch()
        check_rejoined_without_the_orphan(ens, old, new, client_factory)
        if harness.impl() != "apache":
            with open(old.log_path, errors="replace") as f:
                text = f.read()
            assert "TRUNC to" in text and "reloaded" in text


def test_a_member_whose_trunc_fails_on_disk_stops_then_rejoins(tmp_path, client_factory):
    """docs/guarantees.md, fail-stop: "a TRUNC fails". Both servers exit rather than serve the
    orphan (zookube with its fail-stop status, ZooKeeper with QUORUM_PACKET_ERROR)."""
    with Ensemble(str(tmp_path)) as ens:
        old, new = make_orphan(ens, client_factory)
        trigger = os.path.join(old.workdir, "fail-io.armed")
        disk_faults.arm(trigger)
        old.env = disk_faults.disk_error_env(
            harness.build_dir(), os.path.join(old.data_dir, "version-2", "log."), trigger,
            calls="truncate,ftruncate")
        old.launch()
        harness.wait_until(lambda: old.proc.poll() is not None, timeout=EXIT_DEADLINE_S,
                           interval=0.1, what="the member to stop when its TRUNC fails")
        with open(old.log_path, errors="replace") as f:
            text = f.read()
        assert "fail_io: failing" in text, old.log_tail()
        if harness.impl() == "apache":
            assert old.proc.returncode == ZOOKEEPER_TRUNC_FAILED_EXIT, old.log_tail()
        else:
            assert old.proc.returncode == FAIL_STOP_EXIT, old.log_tail()
            lines = [line for line in text.splitlines() if "fail-stop:" in line]
            assert len(lines) == 1 and "TRUNC to" in lines[0], lines
        disk_faults.disarm(trigger)
        old.env = {}
        old.launch()
        check_rejoined_without_the_orphan(ens, old, new, client_factory)
