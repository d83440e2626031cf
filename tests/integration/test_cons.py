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


# Every field of one session's line, as ZooKeeper's ServerCnxn.dumpConnectionInfo prints it.
CONS_FIELDS = re.compile(
    r"\(queued=\d+,recved=(?P<recved>\d+),sent=(?P<sent>\d+),sid=0x(?P<sid>[0-9a-f]+),"
    r"lop=(?P<lop>\w+),est=\d+,to=\d+,(?:lcxid=0x(?P<lcxid>[0-9a-f]+),)?"
    r"lzxid=0x(?P<lzxid>[0-9a-f]+),lresp=(?P<lresp>\d+),llat=(?P<llat>\d+),"
    r"minlat=(?P<minlat>\d+),avglat=(?P<avglat>\d+),maxlat=(?P<maxlat>\d+)\)")


def fields_of(server, session_id):
    for m in CONS_FIELDS.finditer(server.four("cons")):
        if int(m["sid"], 16) == session_id:
            return m.groupdict()
    raise AssertionError(f"session 0x{session_id:x} not in cons")


def server_zxid(server):
    return int(re.search(r"Zxid: 0x([0-9a-f]+)", server.four("srvr")).group(1), 16)


def test_each_answer_sets_the_last_operation_cxid_and_zxid_as_zookeeper_does(zk_server):
    wire = zkwire.WireClient(zk_server.port)
    try:
        # The connect request is the session's first answered request.
        line = fields_of(zk_server, wire.session_id)
        assert (line["lop"], line["lcxid"], line["recved"], line["sent"]) == ("SESS", "0", "1",
                                                                              "1")
        # A new connection's minimum latency stays 0 until crst, as ZooKeeper's does.
        assert line["minlat"] == "0"
        path = f"/cons-{wire.session_id:x}"
        create = wire.call(zkwire.OP_CREATE, zkwire.p_str(path) + zkwire.p_buf(b"")
                           + zkwire.p_acls(zkwire.ANYONE) + zkwire.p_int(0))
        assert create.err == 0
        line = fields_of(zk_server, wire.session_id)
        assert (line["lop"], int(line["lcxid"], 16)) == ("CREA", create.xid)
        assert int(line["lzxid"], 16) == create.zxid
        # A single write that fails is an error txn in ZooKeeper, answered before it is named.
        again = wire.call(zkwire.OP_CREATE, zkwire.p_str(path) + zkwire.p_buf(b"")
                          + zkwire.p_acls(zkwire.ANYONE) + zkwire.p_int(0))
        assert again.err != 0
        assert fields_of(zk_server, wire.session_id)["lop"] == "NA"
        # A read that fails is still named.
        missing = wire.call(zkwire.OP_GETDATA, zkwire.p_str(path + "/none") + zkwire.p_bool(False))
        assert missing.err != 0
        line = fields_of(zk_server, wire.session_id)
        assert (line["lop"], int(line["lcxid"], 16)) == ("GETD", missing.xid)
        assert int(line["lzxid"], 16) == server_zxid(zk_server)
        assert (line["recved"], line["sent"]) == ("4", "4")
        # A ping is the last operation, but its special xid does not replace the last cxid.
        wire.send(zkwire.OP_PING, b"", xid=zkwire.PING_XID)
        assert wire._read().xid == zkwire.PING_XID
        line = fields_of(zk_server, wire.session_id)
        assert (line["lop"], int(line["lcxid"], 16)) == ("PING", missing.xid)
        assert int(line["maxlat"]) >= int(line["avglat"]) >= int(line["minlat"])
    finally:
        wire.close()


def test_crst_resets_a_connection_to_none_yet(server_factory):
    zk_server = server_factory()
    wire = zkwire.WireClient(zk_server.port)
    try:
        wire.exists("/")
        assert zk_server.four("crst").startswith("Connection stats reset.")
        line = fields_of(zk_server, wire.session_id)
        assert (line["lop"], line["lcxid"], line["lzxid"]) == ("NA", None, "ffffffffffffffff")
        assert (line["lresp"], line["llat"], line["minlat"], line["maxlat"]) == ("0",) * 4
        assert (line["recved"], line["sent"]) == ("0", "0")
        wire.exists("/")
        line = fields_of(zk_server, wire.session_id)
        assert (line["lop"], line["recved"], line["sent"]) == ("EXIS", "1", "1")
        assert line["lcxid"] is not None and int(line["lresp"]) > 0
        assert int(line["minlat"]) == int(line["maxlat"]) == int(line["llat"])
    finally:
        wire.close()


def test_the_connection_asking_cons_is_listed_reading_nothing_more(zk_server):
    own = [line for line in zk_server.four("cons").splitlines()
           if line.strip() and "sid=" not in line]
    # The asking connection itself: its word counted as received, reads off while it answers.
    assert any(re.fullmatch(r" /127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)", line)
               for line in own), own
