"""A tiny synchronous ZooKeeper wire client for tests that kazoo 2.8 cannot express.

It speaks the framed jute protocol directly: the connect handshake, any request by opcode,
and notifications (xid -1) queued separately from replies. It is deliberately small and
blocking; every socket operation has a timeout so a silent server fails the test instead of
hanging it.
"""

import socket
import struct
import time
from dataclasses import dataclass

# Opcodes (ZooDefs.OpCode).
OP_CREATE, OP_DELETE, OP_EXISTS, OP_GETDATA, OP_SETDATA = 1, 2, 3, 4, 5
OP_GETACL, OP_SETACL, OP_GETCHILDREN, OP_SYNC, OP_PING = 6, 7, 8, 9, 11
OP_GETCHILDREN2, OP_CHECK, OP_MULTI, OP_CREATE2 = 12, 13, 14, 15
OP_REMOVEWATCHES, OP_CREATECONTAINER, OP_CREATETTL, OP_MULTIREAD = 18, 19, 21, 22
OP_GETEPHEMERALS, OP_GETALLCHILDRENNUMBER, OP_ADDWATCH, OP_WHOAMI = 103, 104, 106, 107
OP_CLOSE = -11

NOTIFICATION_XID = -1
PING_XID = -2

# Event types (Watcher.Event.EventType).
EV_CREATED, EV_DELETED, EV_CHANGED, EV_CHILD = 1, 2, 3, 4

ANYONE = [(31, "world", "anyone")]


def p_int(v):
    return struct.pack(">i", v)


def p_long(v):
    return struct.pack(">q", v)


def p_bool(v):
    return b"\x01" if v else b"\x00"


def p_buf(b):
    if b is None:
        return p_int(-1)
    return p_int(len(b)) + bytes(b)


def p_str(s):
    return p_buf(None if s is None else s.encode())


def p_acls(acls):
    out = p_int(len(acls))
    for perms, scheme, ident in acls:
        out += p_int(perms) + p_str(scheme) + p_str(ident)
    return out


class Cursor:
    """Bounds-checked reader over a reply payload."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated reply")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def bool(self):
        return self.take(1) != b"\x00"

    def buf(self):
        n = self.int()
        return None if n < 0 else self.take(n)

    def str(self):
        b = self.buf()
        return None if b is None else b.decode()

    def strs(self):
        n = self.int()
        return [self.str() for _ in range(max(n, 0))]

    def stat(self):
        names = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion",
                 "aversion", "ephemeralOwner", "dataLength", "numChildren",
                 "pzxid")
        fmt = ">qqqqiiiqiiq"
        return dict(zip(names, struct.unpack(fmt, self.take(68))))

    def done(self):
        return self.pos == len(self.data)


@dataclass
class Reply:
    xid: int
    zxid: int
    err: int
    body: Cursor


@dataclass
class Event:
    type: int
    state: int
    path: str


class WireError(Exception):
    pass


def recv_exact(sock, n):
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("server closed the connection")
        out += chunk
    return bytes(out)


def recv_frame(sock):
    (length, ) = struct.unpack(">i", recv_exact(sock, 4))
    if length < 0 or length > 64 * 1024 * 1024:
        raise WireError(f"bad frame length {length}")
    return recv_exact(sock, length)


def connect_payload(timeout_ms, session_id=0, passwd=b"\0" * 16,
                    last_zxid=0):
    return (p_int(0) + p_long(last_zxid) + p_int(timeout_ms) +
            p_long(session_id) + p_buf(passwd) + p_bool(False))


def frame(payload):
    return p_int(len(payload)) + payload


class WireClient:
    """One session on one socket; requests are answered in order."""

    def __init__(self, port, timeout_ms=4000, session_id=0,
                 passwd=b"\0" * 16, io_timeout=10.0, last_zxid=0):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=io_timeout)
        self.sock.sendall(
            frame(connect_payload(timeout_ms, session_id, passwd, last_zxid)))
        c = Cursor(recv_frame(self.sock))
        c.int()  # protocol version
        self.timeout_ms = c.int()
        self.session_id = c.long()
        self.passwd = c.buf()
        self.xid = 0
        self.events = []
        self.last_zxid = 0

    def close(self, send_close=True):
        try:
            if send_close:
                self.call(OP_CLOSE, b"")
        except (OSError, ConnectionError, WireError):
            pass
        finally:
            self.sock.close()

    def send(self, op, body, xid=None):
        if xid is None:
            self.xid += 1
            xid = self.xid
        self.sock.sendall(frame(p_int(xid) + p_int(op) + body))
        return xid

    def _read(self):
        c = Cursor(recv_frame(self.sock))
        r = Reply(c.int(), c.long(), c.int(), c)
        if r.zxid > 0:
            self.last_zxid = max(self.last_zxid, r.zxid)
        return r

    def call(self, op, body):
        """Sends one request and returns its reply, queueing any events seen first."""
        xid = self.send(op, body)
        while True:
            r = self._read()
            if r.xid == NOTIFICATION_XID:
                self.events.append(self._event(r))
                continue
            if r.xid == PING_XID:
                continue
            if r.xid != xid:
                raise WireError(f"reply xid {r.xid}, expected {xid}")
            return r

    @staticmethod
    def _event(r):
        return Event(r.body.int(), r.body.int(), r.body.str())

    def wait_event(self, deadline_s=10.0):
        """Returns the next notification, pinging to keep the session alive while waiting."""
        end = time.monotonic() + deadline_s
        while not self.events:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no watch event arrived")
            self.sock.settimeout(min(left, self.timeout_ms / 3000))
            try:
                r = self._read()
            except socket.timeout:
                self.send(OP_PING, b"", xid=PING_XID)
                continue
            if r.xid == NOTIFICATION_XID:
                self.events.append(self._event(r))
        return self.events.pop(0)

    # Convenience wrappers returning (err, parsed body).
    def create(self, path, data=b"", flags=0, acls=ANYONE, ttl=None,
               op=None):
        body = p_str(path) + p_buf(data) + p_acls(acls) + p_int(flags)
        if ttl is not None:
            body += p_long(ttl)
            op = op or OP_CREATETTL
        r = self.call(op or OP_CREATE2, body)
        if r.err:
            return r.err, None
        path = r.body.str()
        if op == OP_CREATE:
            return 0, (path, None)
        return 0, (path, r.body.stat())

    def exists(self, path, watch=False):
        r = self.call(OP_EXISTS, p_str(path) + p_bool(watch))
        return r.err, (None if r.err else r.body.stat())

    def get(self, path, watch=False):
        r = self.call(OP_GETDATA, p_str(path) + p_bool(watch))
        return r.err, (None if r.err else (r.body.buf(), r.body.stat()))

    def set(self, path, data, version=-1):
        r = self.call(OP_SETDATA, p_str(path) + p_buf(data) + p_int(version))
        return r.err, (None if r.err else r.body.stat())

    def delete(self, path, version=-1):
        return self.call(OP_DELETE, p_str(path) + p_int(version)).err, None

    def children(self, path, watch=False):
        r = self.call(OP_GETCHILDREN2, p_str(path) + p_bool(watch))
        return r.err, (None if r.err else (r.body.strs(), r.body.stat()))

    def add_watch(self, path, recursive):
        body = p_str(path) + p_int(1 if recursive else 0)
        return self.call(OP_ADDWATCH, body).err, None

    def get_ephemerals(self, prefix):
        r = self.call(OP_GETEPHEMERALS, p_str(prefix))
        return r.err, (None if r.err else r.body.strs())

    def all_children_number(self, path):
        r = self.call(OP_GETALLCHILDRENNUMBER, p_str(path))
        return r.err, (None if r.err else r.body.int())

    def add_auth(self, scheme, credential):
        body = p_int(0) + p_str(scheme) + p_buf(credential.encode())
        self.send(100, body, xid=-4)
        while True:
            r = self._read()
            if r.xid == NOTIFICATION_XID:
                self.events.append(self._event(r))
            elif r.xid == -4:
                return r.err, None

    def set_watches(self, relative_zxid, data=(), exist=(), child=()):
        """Re-arms watches after a reconnect (xid -8, op 101) as ClientCnxn does."""

        def strs(items):
            return p_int(len(items)) + b"".join(p_str(i) for i in items)

        body = p_long(relative_zxid) + strs(data) + strs(exist) + strs(child)
        self.send(101, body, xid=-8)
        while True:
            r = self._read()
            if r.xid == NOTIFICATION_XID:
                self.events.append(self._event(r))
            elif r.xid == -8:
                return r.err, None

    def whoami(self):
        r = self.call(OP_WHOAMI, b"")
        if r.err:
            return r.err, None
        n = r.body.int()
        return 0, [(r.body.str(), r.body.str()) for _ in range(max(n, 0))]

    def multi_read(self, ops):
        """ops: list of (opcode, path); returns per-op (type, err, parsed)."""
        body = b""
        for op, path in ops:
            body += p_int(op) + p_bool(False) + p_int(-1) + p_str(path)
            if op in (OP_GETDATA, OP_GETCHILDREN):
                body += p_bool(False)
        body += p_int(-1) + p_bool(True) + p_int(-1)
        r = self.call(OP_MULTIREAD, body)
        if r.err:
            return r.err, None
        out = []
        while True:
            typ, done, err = r.body.int(), r.body.bool(), r.body.int()
            if done:
                return 0, out
            if typ == -1:
                out.append((typ, r.body.int(), None))
            elif typ == OP_GETDATA:
                out.append((typ, err, (r.body.buf(), r.body.stat())))
            else:
                out.append((typ, err, r.body.strs()))
