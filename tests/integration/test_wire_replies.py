"""Every opcode's reply, byte for byte as ZooKeeper 3.8 sends it, success and error alike.

One scripted conversation of raw frames runs against a fresh server of the implementation under
test (ZK_IMPL) and against a fresh reference ZooKeeper 3.8 started alongside; the replies must be
equal once the values that differ by nature are masked: times, session ids (in a stat's
ephemeralOwner and in whoAmI), and the order of child lists (a HashSet's order in ZooKeeper).
Zxids are compared relative to the session's start (a ping's zxid before the first step): a
write that fails still takes a zxid in ZooKeeper (an error txn), and so it must here.

Each step names the body layout ZooKeeper sends for it, so that the masking knows where the
stats are. A body that does not fit its layout is kept raw and marked, which makes the
comparison fail with both versions shown.

Left out on purpose: a `check` (op 13) sent alone that succeeds. ZooKeeper 3.8 fails to serialize
its reply (a SetDataResponse without a stat: a NullPointerException it logs) and sends nothing, so
the client waits forever; this server answers it with the node's stat instead.
"""

import os
import socket
import struct
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from ensemble import Ensemble  # noqa: E402
import zkref  # noqa: E402
import zkwire as w  # noqa: E402
from zkwire import p_acls, p_bool, p_buf, p_int, p_long, p_str  # noqa: E402

pytestmark = pytest.mark.skipif(not zkref.available(), reason="reference ZooKeeper not installed")

SERVER_CFG = {"extendedTypesEnabled": "true"}
DIGEST_ONLY = [(31, "digest", "someone:2Ir7SSXJl7aUKVlnN6S5UP2MFO8=")]
OP_CHECKWATCHES, OP_RECONFIG, OP_SETWATCHES, OP_SETWATCHES2 = 17, 16, 101, 105
OP_DELETECONTAINER = 20
SETWATCHES_XID = -8


# --- masking ---------------------------------------------------------------------------------


class Misfit(Exception):
    pass


class Masker:
    """Re-emits a body field by field, with by-nature-different values replaced by constants."""

    def __init__(self, body, rel):
        self.c = w.Cursor(body)
        self.out = b""
        self.rel = rel  # a zxid as compared: relative to the session's start

    def copy(self, n):
        try:
            self.out += self.c.take(n)
        except ValueError as e:
            raise Misfit(str(e)) from e

    def int(self):
        try:
            value = self.c.int()
        except ValueError as e:
            raise Misfit(str(e)) from e
        self.out += p_int(value)
        return value

    def buf(self):
        n = self.int()
        if n > 0:
            self.copy(n)

    def strs(self, sort=True):
        n = self.int()
        items = []
        for _ in range(max(n, 0)):
            try:
                items.append(self.c.buf())
            except ValueError as e:
                raise Misfit(str(e)) from e
        for item in sorted(items) if sort else items:
            self.out += p_buf(item)

    def stat(self):
        try:
            s = self.c.stat()
        except ValueError as e:
            raise Misfit(str(e)) from e
        owner = s["ephemeralOwner"]
        # Containers and TTL nodes carry a marker in ephemeralOwner; a session id differs.
        owner = owner if owner < 0 or owner == 0 else 1
        self.out += struct.pack(">qqqqiiiqiiq", self.rel(s["czxid"]), self.rel(s["mzxid"]), 0, 0,
                                s["version"], s["cversion"], s["aversion"], owner,
                                s["dataLength"], s["numChildren"], self.rel(s["pzxid"]))

    def acls(self):
        n = self.int()
        for _ in range(max(n, 0)):
            self.int()
            self.buf()
            self.buf()

    def client_infos(self):
        n = self.int()
        for _ in range(max(n, 0)):
            self.buf()  # scheme
            self.buf()  # user: 127.0.0.1 for the ip scheme on both servers

    def multi(self):
        while True:
            op = self.int()
            try:
                done = self.c.bool()
            except ValueError as e:
                raise Misfit(str(e)) from e
            self.out += p_bool(done)
            err = self.int()
            if done:
                return
            if op == -1:
                self.int()
            elif op == w.OP_CREATE:
                self.buf()
            elif op in (w.OP_CREATE2, w.OP_CREATETTL, w.OP_CREATECONTAINER):
                self.buf()
                self.stat()
            elif op in (w.OP_SETDATA, w.OP_CHECK):
                if op == w.OP_SETDATA:
                    self.stat()
            elif op == w.OP_GETDATA:
                self.buf()
                self.stat()
            elif op == w.OP_GETCHILDREN:
                self.strs()
            elif op != w.OP_DELETE:
                raise Misfit(f"multi result of op {op} (err {err})")

    def run(self, layout):
        for field in layout.split():
            getattr(self, field)()
        if not self.c.done():
            raise Misfit(f"{len(self.c.data) - self.c.pos} bytes left over")
        return self.out


def relative_to(base):
    """Zxids as compared: 0 (a node no txn made, or none given) stays 0; any other counts from
    `base`. Without a base every zxid reads 0."""
    if base is None:
        return lambda zxid: 0
    return lambda zxid: zxid - base if zxid > 0 else zxid


def masked(reply, layout, base=None):
    """(xid, zxid, err, masked body), or the raw body marked when it does not fit the layout;
    zxids relative to `base` (see relative_to)."""
    body = reply.body.data[16:]
    rel = relative_to(base)
    try:
        shown = Masker(body, rel).run(layout if reply.err == 0 or layout == "multi" else "")
    except Misfit as e:
        shown = f"MISFIT({e}): {body.hex()}"
    return (reply.xid, rel(reply.zxid), reply.err, shown)


# --- the conversation ------------------------------------------------------------------------


def create_body(path, data=b"", flags=0, acls=w.ANYONE, ttl=None):
    body = p_str(path) + p_buf(data) + p_acls(acls) + p_int(flags)
    return body if ttl is None else body + p_long(ttl)


def multi_body(ops):
    out = b""
    for op, body in ops:
        out += p_int(op) + p_bool(False) + p_int(-1) + body
    return out + p_int(-1) + p_bool(True) + p_int(-1)


def strs(items):
    return p_int(len(items)) + b"".join(p_str(i) for i in items)


# (name, op, body, layout of the body ZooKeeper sends on success). Order matters: each step
# sees the state the earlier ones left.
STEPS = [
    ("create2", w.OP_CREATE2, create_body("/w", b"d"), "buf stat"),
    ("create", w.OP_CREATE, create_body("/w/a"), "buf"),
    ("create exists", w.OP_CREATE, create_body("/w/a"), ""),
    ("create no parent", w.OP_CREATE, create_body("/w/x/y"), ""),
    ("create bad path", w.OP_CREATE, create_body("w"), ""),
    ("create bad flags", w.OP_CREATE, create_body("/w/f", flags=77), ""),
    ("create empty acl", w.OP_CREATE, create_body("/w/f", acls=[]), ""),
    ("create ephemeral", w.OP_CREATE2, create_body("/w/e", flags=1), "buf stat"),
    ("create sequential", w.OP_CREATE2, create_body("/w/s-", flags=2), "buf stat"),
    ("create ttl", w.OP_CREATETTL, create_body("/w/t", flags=5, ttl=60000), "buf stat"),
    ("create ttl bad", w.OP_CREATETTL, create_body("/w/t2", flags=5, ttl=0), ""),
    ("create container", w.OP_CREATECONTAINER, create_body("/w/k", flags=4), "buf stat"),
    ("create null data", w.OP_CREATE2, create_body("/w/n", None), "buf stat"),
    ("create secret", w.OP_CREATE, create_body("/w/secret", acls=DIGEST_ONLY), "buf"),
    ("create under ephemeral", w.OP_CREATE, create_body("/w/e/c"), ""),
    ("getData", w.OP_GETDATA, p_str("/w") + p_bool(False), "buf stat"),
    ("getData null", w.OP_GETDATA, p_str("/w/n") + p_bool(False), "buf stat"),
    ("getData empty", w.OP_GETDATA, p_str("/w/a") + p_bool(False), "buf stat"),
    ("getData missing", w.OP_GETDATA, p_str("/nope") + p_bool(False), "buf stat"),
    ("getData no auth", w.OP_GETDATA, p_str("/w/secret") + p_bool(False), "buf stat"),
    ("exists", w.OP_EXISTS, p_str("/w") + p_bool(False), "stat"),
    ("exists missing", w.OP_EXISTS, p_str("/nope") + p_bool(True), "stat"),
    ("exists no auth", w.OP_EXISTS, p_str("/w/secret") + p_bool(False), "stat"),
    ("getChildren no auth", w.OP_GETCHILDREN, p_str("/w/secret") + p_bool(False), "strs"),
    ("getAllChildrenNumber no auth", w.OP_GETALLCHILDRENNUMBER, p_str("/w/secret"), "int"),
    ("check no auth", w.OP_CHECK, p_str("/w/secret") + p_int(0), "stat"),
    ("delete under no auth", w.OP_DELETE, p_str("/w/secret/x") + p_int(-1), ""),
    ("create under no auth", w.OP_CREATE, create_body("/w/secret/x"), ""),
    ("setData", w.OP_SETDATA, p_str("/w/a") + p_buf(b"xy") + p_int(0), "stat"),
    ("setData null", w.OP_SETDATA, p_str("/w/a") + p_buf(None) + p_int(-1), "stat"),
    ("getData after null set", w.OP_GETDATA, p_str("/w/a") + p_bool(False), "buf stat"),
    ("setData bad version", w.OP_SETDATA, p_str("/w/a") + p_buf(b"z") + p_int(9), "stat"),
    ("setData missing", w.OP_SETDATA, p_str("/nope") + p_buf(b"z") + p_int(-1), "stat"),
    ("setData no auth", w.OP_SETDATA, p_str("/w/secret") + p_buf(b"z") + p_int(-1), "stat"),
    ("getChildren", w.OP_GETCHILDREN, p_str("/w") + p_bool(False), "strs"),
    ("getChildren missing", w.OP_GETCHILDREN, p_str("/nope") + p_bool(False), "strs"),
    ("getChildren2", w.OP_GETCHILDREN2, p_str("/w") + p_bool(False), "strs stat"),
    ("getChildren2 leaf", w.OP_GETCHILDREN2, p_str("/w/a") + p_bool(False), "strs stat"),
    ("getACL", w.OP_GETACL, p_str("/w"), "acls stat"),
    ("getACL secret", w.OP_GETACL, p_str("/w/secret"), "acls stat"),
    ("getACL missing", w.OP_GETACL, p_str("/nope"), "acls stat"),
    ("setACL", w.OP_SETACL, p_str("/w/a") + p_acls(w.ANYONE) + p_int(0), "stat"),
    ("setACL bad version", w.OP_SETACL, p_str("/w/a") + p_acls(w.ANYONE) + p_int(7), "stat"),
    ("setACL empty", w.OP_SETACL, p_str("/w/a") + p_acls([]) + p_int(-1), "stat"),
    ("setACL missing, empty acl", w.OP_SETACL, p_str("/nope") + p_acls([]) + p_int(-1), "stat"),
    ("setACL no auth", w.OP_SETACL, p_str("/w/secret") + p_acls(w.ANYONE) + p_int(-1), "stat"),
    ("sync", w.OP_SYNC, p_str("/w"), "buf"),
    ("sync missing", w.OP_SYNC, p_str("/nope"), "buf"),
    ("check old version", w.OP_CHECK, p_str("/w/a") + p_int(1), "stat"),
    ("check bad version", w.OP_CHECK, p_str("/w/a") + p_int(5), "stat"),
    ("check missing", w.OP_CHECK, p_str("/nope") + p_int(-1), "stat"),
    ("multi", w.OP_MULTI,
     multi_body([(w.OP_CREATE, create_body("/w/m")),
                 (w.OP_CREATE2, create_body("/w/m2", None)),
                 (w.OP_SETDATA, p_str("/w/m") + p_buf(b"v") + p_int(0)),
                 (w.OP_CHECK, p_str("/w/m") + p_int(1)),
                 (w.OP_DELETE, p_str("/w/m") + p_int(-1))]), "multi"),
    ("multi failing", w.OP_MULTI,
     multi_body([(w.OP_CREATE, create_body("/w/m3")),
                 (w.OP_CHECK, p_str("/w/a") + p_int(42)),
                 (w.OP_DELETE, p_str("/w/a") + p_int(-1))]), "multi"),
    ("multi empty", w.OP_MULTI, multi_body([]), "multi"),
    ("multiRead", w.OP_MULTIREAD,
     multi_body([(w.OP_GETDATA, p_str("/w/m2") + p_bool(False)),
                 (w.OP_GETCHILDREN, p_str("/w/k") + p_bool(False)),
                 (w.OP_GETDATA, p_str("/nope") + p_bool(False)),
                 (w.OP_GETCHILDREN, p_str("/w/secret") + p_bool(False))]), "multi"),
    ("addWatch", w.OP_ADDWATCH, p_str("/w") + p_int(0), "int"),
    ("addWatch recursive", w.OP_ADDWATCH, p_str("/w/a") + p_int(1), "int"),
    ("addWatch missing node", w.OP_ADDWATCH, p_str("/nope") + p_int(0), "int"),
    ("checkWatches", OP_CHECKWATCHES, p_str("/w") + p_int(4), ""),
    ("checkWatches none", OP_CHECKWATCHES, p_str("/w/k") + p_int(3), ""),
    ("removeWatches", w.OP_REMOVEWATCHES, p_str("/w") + p_int(4), ""),
    ("removeWatches again", w.OP_REMOVEWATCHES, p_str("/w") + p_int(4), ""),
    ("checkWatches data", OP_CHECKWATCHES, p_str("/nope") + p_int(2), ""),
    ("removeWatches data", w.OP_REMOVEWATCHES, p_str("/nope") + p_int(2), ""),
    ("removeWatches any", w.OP_REMOVEWATCHES, p_str("/nope") + p_int(3), ""),
    ("removeWatches bad type", w.OP_REMOVEWATCHES, p_str("/w") + p_int(9), ""),
    ("addWatch bad mode", w.OP_ADDWATCH, p_str("/w") + p_int(7), "int"),
    ("getEphemerals all", w.OP_GETEPHEMERALS, p_str("/"), "strs"),
    ("getEphemerals prefix", w.OP_GETEPHEMERALS, p_str("/w/e"), "strs"),
    ("getEphemerals none", w.OP_GETEPHEMERALS, p_str("/zz"), "strs"),
    ("getAllChildrenNumber", w.OP_GETALLCHILDRENNUMBER, p_str("/w"), "int"),
    ("getAllChildrenNumber missing", w.OP_GETALLCHILDRENNUMBER, p_str("/nope"), "int"),
    ("whoAmI", w.OP_WHOAMI, b"", "client_infos"),
    ("reconfig standalone", OP_RECONFIG, p_str(None) + p_str(None) + p_str(None) + p_long(-1), ""),
    ("delete bad version", w.OP_DELETE, p_str("/w/a") + p_int(7), ""),
    ("delete not empty", w.OP_DELETE, p_str("/w") + p_int(-1), ""),
    ("delete missing", w.OP_DELETE, p_str("/w/nope") + p_int(-1), ""),
    ("delete root", w.OP_DELETE, p_str("/") + p_int(-1), ""),
    ("delete", w.OP_DELETE, p_str("/w/a") + p_int(-1), ""),
    ("ping", w.OP_PING, b"", ""),
]


def converse(port):
    """Runs STEPS on one session; returns [(step name, masked reply)] and the events seen."""
    client = w.WireClient(port)
    try:
        base = session_start(client)
        seen = []
        for name, op, body, layout in STEPS:
            xid = w.PING_XID if op == w.OP_PING else None
            client.send(op, body, xid=xid)
            reply = read_reply(client)
            seen.append((name, masked(reply, layout, base)))
        seen.append(("setWatches", set_watches(client, OP_SETWATCHES, 3, base)))
        seen.append(("setWatches2", set_watches(client, OP_SETWATCHES2, 5, base)))
        return seen, [(e.type, e.state, e.path) for e in client.events]
    finally:
        client.close()


def session_start(client):
    """The zxid a ping is answered with: the last txn applied, its own session's creation."""
    client.send(w.OP_PING, b"", xid=w.PING_XID)
    return read_reply(client).zxid


def read_reply(client):
    while True:
        reply = client._read()
        if reply.xid != w.NOTIFICATION_XID:
            return reply
        client.events.append(client._event(reply))


def set_watches(client, op, lists, base):
    body = p_long(0) + strs(["/w/n"]) + b"".join(strs([]) for _ in range(lists - 1))
    client.send(op, body, xid=SETWATCHES_XID)
    return masked(read_reply(client), "", base)


# --- the test --------------------------------------------------------------------------------


@pytest.fixture
def reference(tmp_path):
    data = tmp_path / "reference-data"
    data.mkdir()
    with zkref.ReferenceZooKeeper(tmp_path / "reference", data,
                                  extendedTypesEnabled="true") as ref:
        # ZooKeeper answers ruok before it serves sessions: wait until one can be opened.
        harness.wait_until(lambda: opens_session(ref.port), timeout=30, what="a session")
        yield ref


def opens_session(port):
    try:
        w.WireClient(port).close()
        return True
    except (ConnectionError, OSError):
        return False


def test_every_reply_is_zookeepers(server_factory, reference):
    subject = server_factory(**SERVER_CFG)
    expected, expected_events = converse(reference.port)
    actual, actual_events = converse(subject.port)
    misfits = [(name, shown) for name, (_, _, _, shown) in expected if isinstance(shown, str)]
    assert not misfits, f"the test's layouts do not fit ZooKeeper's replies: {misfits}"
    differ = [(name, want, got) for (name, want), (_, got) in zip(expected, actual) if want != got]
    assert not differ, "\n".join(f"{n}: zookeeper {a} / this server {b}" for n, a, b in differ)
    assert actual_events == expected_events


def test_unknown_opcode_is_answered_as_zookeeper_does(server_factory, reference):
    subject = server_factory(**SERVER_CFG)

    def answer(port):
        client = w.WireClient(port)
        try:
            client.send(77, b"")
            reply = masked(read_reply(client), "")
            # Whether the server goes on serving this session afterwards.
            try:
                after = client.call(w.OP_EXISTS, p_str("/") + p_bool(False)).err
            except (ConnectionError, socket.timeout, OSError):
                after = "closed"
            return reply, after
        finally:
            client.close()

    assert answer(subject.port) == answer(reference.port)


def test_a_followers_replies_are_zookeepers_too(tmp_path, reference):
    """The ensemble path: writes forwarded to the leader, reads served by the follower."""
    with Ensemble(str(tmp_path / "ensemble"), voters=3, **SERVER_CFG) as ens:
        leader = ens.leader()
        follower = [m for m in ens.voters if m is not leader][0]
        expected, expected_events = converse(reference.port)
        actual, actual_events = converse(follower.port)
    differ = [(name, want, got) for (name, want), (_, got) in zip(expected, actual) if want != got]
    assert not differ, "\n".join(f"{n}: zookeeper {a} / follower {b}" for n, a, b in differ)
    assert actual_events == expected_events


# Requests ZooKeeper cannot decode or will not run; each on a connection of its own, with
# whether the connection still serves afterwards.
MALFORMED = [
    ("create truncated", w.OP_CREATE, p_str("/m") + p_int(5), ""),
    ("setData truncated", w.OP_SETDATA, p_str("/m"), ""),
    ("getData truncated", w.OP_GETDATA, p_int(100), ""),
    ("sync truncated", w.OP_SYNC, p_int(100), ""),
    ("multi holding a read", w.OP_MULTI,
     multi_body([(w.OP_GETDATA, p_str("/") + p_bool(False))]), ""),
    ("multiRead holding a write", w.OP_MULTIREAD,
     multi_body([(w.OP_GETCHILDREN, p_str("/") + p_bool(False)),
                 (w.OP_DELETE, p_str("/x") + p_int(-1))]), "multi"),
    ("multiRead of writes", w.OP_MULTIREAD,
     multi_body([(w.OP_DELETE, p_str("/x") + p_int(-1)),
                 (w.OP_CREATE, create_body("/y"))]), "multi"),
    ("multiRead of an unknown op", w.OP_MULTIREAD,
     multi_body([(w.OP_EXISTS, p_str("/") + p_bool(False))]), "multi"),
    ("deleteContainer from a client", OP_DELETECONTAINER, p_str("/zz"), ""),
]


def refusals(port):
    out = []
    for name, op, body, layout in MALFORMED:
        client = w.WireClient(port)
        try:
            # Whether the refusal took a zxid (an error txn) shows against a ping's before it.
            base = session_start(client)
            client.send(op, body)
            reply = masked(read_reply(client), layout, base)
            try:
                after = client.call(w.OP_EXISTS, p_str("/") + p_bool(False)).err
            except (ConnectionError, socket.timeout, OSError):
                after = "closed"
            out.append((name, reply[1:], after))
        finally:
            client.close()
    return out


def test_undecodable_requests_are_refused_as_zookeeper_does(server_factory, reference):
    subject = server_factory(**SERVER_CFG)
    assert refusals(subject.port) == refusals(reference.port)
