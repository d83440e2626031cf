"""`cons`: each connection's queued requests and establishment time, as ZooKeeper 3.8 prints them.

ZooKeeper's ServerCnxn.dumpConnectionInfo prints `queued` as the connection's outstanding
requests (received, not yet answered) and `est` as the wall-clock time in epoch milliseconds at
which the connection was accepted. Both tests run unchanged against ZK_IMPL=apache.
"""

import re
import signal
import time

import harness
import zkwire
from ensemble import Ensemble

# One connection with a session, every field ZooKeeper prints for it, in its order.
CONS_LINE = re.compile(
    r"^ /127\.0\.0\.1:(?P<port>\d+)\[(?P<ops>[0-9a-f]+)\]"
    r"\(queued=(?P<queued>\d+),recved=\d+,sent=\d+,sid=0x(?P<sid>[0-9a-f]+),"
    r"lop=\w+,est=(?P<est>\d+),to=\d+,(?:lcxid=0x[0-9a-f]+,)?lzxid=0x-?[0-9a-f]+,"
    r"lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)$", re.M)

# The follower must notice its stopped leader no sooner than syncLimit (5) ticks.
ENSEMBLE_TICK_MS = 1000
QUEUED_DEADLINE_S = 3.0


def cons_of(server, session_id):
    """The parsed `cons` line of one session, or None while it is not listed."""
    for m in CONS_LINE.finditer(server.four("cons")):
        if int(m["sid"], 16) == session_id:
            return m
    return None


def test_est_is_when_the_connection_was_accepted_and_idle_queued_is_zero(zk_server):
    before_ms = int(time.time() * 1000)
    wire = zkwire.WireClient(zk_server.port)
    after_ms = int(time.time() * 1000) + 1
    try:
        wire.exists("/")  # answered: nothing stays queued
        line = harness.wait_until(lambda: cons_of(zk_server, wire.session_id), timeout=5.0,
                                  what="the session in cons")
        # Within the clocks' millisecond truncation.
        assert before_ms - 2 <= int(line["est"]) <= after_ms + 2, line.group(0)
        assert int(line["queued"]) == 0, line.group(0)
        # The same instant on a later call: est is a fixed time, not "ms since".
        time.sleep(0.01)
        assert cons_of(zk_server, wire.session_id)["est"] == line["est"]
    finally:
        wire.close()


def test_queued_counts_a_write_waiting_for_its_commit(tmp_path):
    with Ensemble(str(tmp_path), voters=3, tick_ms=ENSEMBLE_TICK_MS) as ens:
        leader = ens.leader()
        follower = ens.followers()[0]
        wire = zkwire.WireClient(follower.port, timeout_ms=30000)
        try:
            leader.proc.send_signal(signal.SIGSTOP)
            try:
                # Forwarded to the stopped leader: it stays outstanding on the follower.
                wire.send(zkwire.OP_CREATE, zkwire.p_str("/queued") + zkwire.p_buf(b"")
                          + zkwire.p_acls(zkwire.ANYONE) + zkwire.p_int(0))
                harness.wait_until(
                    lambda: (m := cons_of(follower, wire.session_id)) and m["queued"] == "1",
                    timeout=QUEUED_DEADLINE_S, what="queued=1 for the pending write")
            finally:
                leader.proc.send_signal(signal.SIGCONT)
            reply = wire._read()
            assert reply.err == 0
            harness.wait_until(
                lambda: (m := cons_of(follower, wire.session_id)) and m["queued"] == "0",
                timeout=5.0, what="queued=0 once the write is answered")
        finally:
            wire.close()
