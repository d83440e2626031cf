"""A member whose log holds a txn the ensemble never committed is told TRUNC when it rejoins: it
drops the txn, reloads its tree from its snapshot and log, and serves the ensemble's data.

The txn is made by freezing both followers (SIGSTOP), so the leader logs a proposal nobody acks,
then killing every member: the followers with the proposal still unread in their sockets, so it
reaches no other log. The two followers restart and elect a new leader without the old one; the
old leader's restart replays the orphan into its tree, and the new leader's TRUNC takes it out."""

import glob
import os
import signal

import harness
from ensemble import Ensemble, mode_of


def logged(member, marker):
    for path in glob.glob(os.path.join(member.data_dir, "version-2", "log.*")):
        with open(path, "rb") as f:
            if marker in f.read():
                return True
    return False


def test_a_rejoining_member_truncates_a_txn_the_ensemble_never_committed(tmp_path,
                                                                          client_factory):
    with Ensemble(str(tmp_path)) as ens:
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
        old.launch()
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
        if harness.impl() != "apache":
            with open(old.log_path, errors="replace") as f:
                text = f.read()
            assert "TRUNC to" in text and "reloaded" in text
