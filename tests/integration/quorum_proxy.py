"""A TCP proxy for one member's quorum port (where learners dial their leader) that can damage
the snapshot a SNAP carries, for the fail-stop tests.

The leader-to-learner direction is parsed as it is relayed: bare jute QuorumPackets
(int type, long zxid, buffer data, vector<Id> authinfo; docs in /work/shared/GUIDE.md 2.3), and
after a SNAP packet the snapshot stream (sessions, ACL cache, then (path, DataNode) records
until the path "/", then the string "BenWasHere"). Armed with a path prefix, the proxy renames
the first node under it to a parent that does not exist, once: the stream stays well formed,
but no tree can be built from it. Everything else, and every later connection, is relayed
unchanged. The learner-to-leader direction is never touched.
"""

import socket
import struct
import threading

import ports

SNAP = 15
STAT_PERSISTED_BYTES = 6 * 8 + 3 * 4  # czxid mzxid ctime mtime, 3 versions, owner pzxid
ACCEPT_POLL_S = 0.2


class _Stream:
    """Reads exact byte counts from src, keeping everything read for dst: bytes are written
    out before each wait for more, so nothing is held back while the sender waits on us."""

    def __init__(self, src, dst):
        self.src, self.dst = src, dst
        self.inbox = bytearray()
        self.outbox = bytearray()

    def flush(self):
        if self.outbox:
            self.dst.sendall(self.outbox)
            self.outbox.clear()

    def take(self, n):
        while len(self.inbox) < n:
            self.flush()
            chunk = self.src.recv(65536)
            if not chunk:
                raise EOFError
            self.inbox += chunk
        out = bytes(self.inbox[:n])
        del self.inbox[:n]
        return out

    def put(self, data):
        self.outbox += data

    def relay(self, n):
        data = self.take(n)
        self.put(data)
        return data

    def int(self):
        return struct.unpack(">i", self.relay(4))[0]

    def sized(self):
        """A jute buffer or string: int length (-1: null), then its bytes, relayed."""
        length = self.int()
        return self.relay(length) if length > 0 else b""

    def rest(self):
        self.put(self.inbox)
        self.inbox.clear()
        self.flush()
        while chunk := self.src.recv(65536):
            self.dst.sendall(chunk)


class QuorumProxy:
    """Listens on a free port and relays every connection to 127.0.0.1:target_port."""

    def __init__(self, target_port, rename=None):
        """rename: (old prefix, new prefix) of equal length, applied to the first node path of
        the first SNAP that starts with the old one; None relays everything unchanged."""
        if rename is not None and len(rename[0]) != len(rename[1]):
            raise ValueError("a renamed path keeps its length: no length field changes")
        self.target_port = target_port
        self.rename = rename
        self.renamed = threading.Event()  # set once a SNAP went out damaged
        self.renamed_path = None
        self.port = ports.free_port()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(8)
        self.listener.settimeout(ACCEPT_POLL_S)
        self.closing = threading.Event()
        self.sockets, self.threads = [], []
        self.lock = threading.Lock()
        self._spawn(self._accept_loop)

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self.lock:
            self.threads.append(thread)
        thread.start()

    def _accept_loop(self):
        while not self.closing.is_set():
            try:
                learner, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            learner.settimeout(None)
            try:
                leader = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                learner.close()
                continue
            leader.settimeout(None)
            with self.lock:
                self.sockets += [learner, leader]
            self._spawn(self._pipe, _Stream(learner, leader), False)
            self._spawn(self._pipe, _Stream(leader, learner), True)

    def _pipe(self, stream, from_leader):
        try:
            if from_leader and self.rename is not None and not self.renamed.is_set():
                self._packets(stream)
            stream.rest()
        except (EOFError, OSError):
            pass
        finally:
            for s in (stream.src, stream.dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _packets(self, stream):
        """Relays packets until a SNAP's snapshot was damaged (then the rest goes raw)."""
        while True:
            kind = stream.int()
            stream.relay(8)  # zxid
            stream.sized()  # data
            count = stream.int()  # authinfo: Id{string scheme, string id} each
            for _ in range(max(count, 0)):
                stream.sized()
                stream.sized()
            if kind == SNAP and self._snapshot(stream):
                return

    def _snapshot(self, stream):
        """Relays a SNAP's stream up to the node it renames; False if it had none to rename
        (the whole stream was relayed, signature included)."""
        stream.relay(12 * max(stream.int(), 0))  # sessions: long id, int timeout
        for _ in range(max(stream.int(), 0)):  # ACL cache: long ref, vector<ACL>
            stream.relay(8)
            for _ in range(max(stream.int(), 0)):
                stream.relay(4)  # perms
                stream.sized()  # scheme
                stream.sized()  # id
        old, new = self.rename
        while True:
            length = struct.unpack(">i", stream.take(4))[0]
            path = stream.take(length) if length > 0 else b""
            if path.startswith(old) and not self.renamed.is_set():
                self.renamed_path = (new + path[len(old):]).decode()
                stream.put(struct.pack(">i", length) + new + path[len(old):])
                stream.flush()
                self.renamed.set()
                return True
            stream.put(struct.pack(">i", length) + path)
            if path == b"/":
                stream.sized()  # the signature
                return False
            stream.sized()  # data
            stream.relay(8 + STAT_PERSISTED_BYTES)  # ACL ref, stat

    def close(self):
        self.closing.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            sockets, threads = list(self.sockets), list(self.threads)
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for thread in threads:
            thread.join(timeout=5)
