"""Hostile and broken clients on raw sockets: the server must drop them and keep serving others."""

import os
import socket
import struct

import pytest
from kazoo.client import KazooClient

from harness import wait_until
from zkwire import (OP_GETDATA, WireClient, connect_payload, frame, p_bool, p_int, p_str,
                    recv_frame)

UNIMPLEMENTED = -6


def closed_by_server(sock, timeout=10.0):
    """True once the server closes the socket (EOF or reset); False if it stays open."""
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def raw(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


@pytest.fixture
def canary(zk, base):
    """Data written before the abuse; checked afterwards through a brand-new session."""
    zk.create(base + "/canary", b"intact")
    return base + "/canary"


def assert_healthy(server, canary):
    assert server.alive(), server.log_tail()
    client = KazooClient(hosts=server.hosts, timeout=10)
    client.start(timeout=15)
    try:
        assert client.get(canary)[0] == b"intact"
        client.set(canary, b"intact")
    finally:
        client.stop()
        client.close()


@pytest.mark.parametrize("length", [-1, -2147483648, 0x7FFFFFFF, 64 * 1024 * 1024])
def test_bad_first_frame_length_closes_connection(zk_server, canary, length):
    with raw(zk_server.port) as s:
        s.sendall(struct.pack(">i", length) + b"\0" * 64)
        assert closed_by_server(s)
    assert_healthy(zk_server, canary)


@pytest.mark.parametrize("length", [-5, 0x7FFFFFFF, 8 * 1024 * 1024])
def test_bad_frame_length_in_session_closes_connection(zk_server, canary, length):
    c = WireClient(zk_server.port)
    c.sock.sendall(struct.pack(">i", length) + b"\0" * 64)
    assert closed_by_server(c.sock)
    c.sock.close()
    assert_healthy(zk_server, canary)


def test_truncated_frame_then_close(zk_server, canary):
    with raw(zk_server.port) as s:
        s.sendall(struct.pack(">i", 200) + b"\0" * 10)
    c = WireClient(zk_server.port)
    body = p_int(1) + p_int(OP_GETDATA) + p_str(canary)  # watch flag missing
    c.sock.sendall(frame(body)[:-3])
    c.sock.close()
    assert_healthy(zk_server, canary)


def test_garbage_after_valid_connect(zk_server, canary):
    c = WireClient(zk_server.port)
    c.sock.sendall(frame(os.urandom(4) + p_int(OP_GETDATA) + b"\xff\xff\xff\xf0garbage"))
    assert closed_by_server(c.sock), "an undecodable request must close the connection"
    c.sock.close()
    with raw(zk_server.port) as s:
        s.sendall(os.urandom(3) + b"\x00" + os.urandom(200))
        closed_by_server(s, timeout=5)
    assert_healthy(zk_server, canary)


def test_connect_request_too_short(zk_server, canary):
    with raw(zk_server.port) as s:
        s.sendall(frame(connect_payload(4000)[:20]))
        assert closed_by_server(s)
    assert_healthy(zk_server, canary)


def test_unknown_opcode_is_answered_or_closed(zk_server, canary):
    c = WireClient(zk_server.port)
    xid = c.send(777, p_str("/"))
    try:
        reply = recv_frame(c.sock)
        got_xid, _, err = struct.unpack(">iqi", reply[:16])
        assert (got_xid, err) == (xid, UNIMPLEMENTED)
    except ConnectionError:
        pass  # closing the connection is also ZooKeeper's answer for some builds
    c.sock.close()
    assert_healthy(zk_server, canary)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_slow_reader_does_not_stall_others_or_grow_memory_unbounded(zk_server, zk, canary, base):
    big = base + "/big"
    zk.create(big, b"b" * 512 * 1024)
    before = rss_kib(zk_server.proc.pid)
    hog = WireClient(zk_server.port, timeout_ms=20 * zk_server.tick_ms)
    hog.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = frame(p_int(1) + p_int(OP_GETDATA) + p_str(big) + p_bool(False))
    hog.sock.settimeout(0.5)
    sent = 0
    try:
        for _ in range(400):  # 200 MB of replies that nobody reads
            hog.sock.sendall(request)
            sent += 1
    except (socket.timeout, OSError):
        pass  # the server stopped reading from us: that is back-pressure working
    # Others are served promptly while the hog sits on its unread replies.
    for i in range(20):
        zk.set(canary, b"intact")
        assert zk.get(canary)[0] == b"intact"
    assert_healthy(zk_server, canary)
    grown_mib = (rss_kib(zk_server.proc.pid) - before) / 1024
    assert grown_mib < 400, f"server RSS grew by {grown_mib:.0f} MiB for {sent} queued replies"
    hog.sock.close()


def test_connections_beyond_max_client_cnxns_are_refused(server_factory):
    server = server_factory(maxClientCnxns=5)
    held = [WireClient(server.port) for _ in range(5)]
    try:
        assert all(c.session_id for c in held)
        with raw(server.port) as s:
            try:
                s.sendall(frame(connect_payload(4000)))
            except OSError:
                pass
            assert closed_by_server(s), "the sixth connection from one IP must be refused"
        held.pop().close()
        # A slot frees up once the server notices the close.
        extra = wait_until(lambda: _try_connect(server.port), timeout=10, what="free slot")
        extra.close()
    finally:
        for c in held:
            c.close()


def _try_connect(port):
    try:
        return WireClient(port, io_timeout=2)
    except (OSError, ConnectionError):
        return None
