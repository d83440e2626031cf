"""Where ZooKeeper 3.8 draws the line on a request's size: a client frame (request header and
body, without the 4-byte length) may be jute.maxbuffer bytes long (default 0xfffff); one byte
more and the server closes the connection without a reply (NIOServerCnxn.readLength).
zookeeper.jute.maxbuffer.extrasize does not widen that line: it only pads what is read back from
disk and from other servers.
"""

import socket

import pytest

from ensemble import mntr_of
from zkwire import (OP_EXISTS, OP_SETDATA, WireClient, frame, p_bool, p_buf, p_int, p_str,
                    recv_frame)

DEFAULT_MAXBUFFER = 0xFFFFF


def set_data_frame(path, frame_length):
    """A setData request (xid 1) whose frame is exactly frame_length bytes long."""
    fixed = 4 + 4 + len(p_str(path)) + 4 + 4  # xid, type, path, data length, version
    data = b"v" * (frame_length - fixed)
    payload = p_int(1) + p_int(OP_SETDATA) + p_str(path) + p_buf(data) + p_int(-1)
    assert len(payload) == frame_length
    return frame(payload)


def answered(port, path, frame_length):
    """The reply's error code, or None when the server closed the connection instead."""
    client = WireClient(port)
    try:
        client.sock.sendall(set_data_frame(path, frame_length))
        reply = recv_frame(client.sock)
        return int.from_bytes(reply[12:16], "big", signed=True)
    except (ConnectionError, socket.timeout, OSError):
        return None
    finally:
        client.sock.close()


def still_serving(port):
    client = WireClient(port)
    try:
        return client.call(OP_EXISTS, p_str("/") + p_bool(False)).err == 0
    finally:
        client.close()


def test_a_frame_of_jute_maxbuffer_bytes_is_served_and_one_more_is_refused(zk, base,
                                                                          zk_server):
    path = base + "/big"
    zk.create(path, b"")
    assert answered(zk_server.port, path, DEFAULT_MAXBUFFER) == 0
    assert zk.get(path)[1].dataLength == DEFAULT_MAXBUFFER - (4 + 4 + 4 + len(path) + 4 + 4)
    assert answered(zk_server.port, path, DEFAULT_MAXBUFFER + 1) is None
    # 1 MiB + 16 bytes of data, as a client would send it: refused, nothing stored.
    assert answered(zk_server.port, path, 1024 * 1024 + 16 + 24 + len(path)) is None
    assert zk.get(path)[1].dataLength == DEFAULT_MAXBUFFER - (4 + 4 + 4 + len(path) + 4 + 4)
    assert still_serving(zk_server.port)


@pytest.mark.parametrize("extrasize", [None, 100000])
def test_the_line_follows_jute_maxbuffer_and_not_the_extra_size(server_factory, client_factory,
                                                              extrasize):
    cfg = {"jute.maxbuffer": 4096}
    if extrasize is not None:
        cfg["zookeeper.jute.maxbuffer.extrasize"] = extrasize
    server = server_factory(**{k.replace(".", "__"): v for k, v in cfg.items()})
    zk = client_factory(server)
    zk.create("/big", b"")
    assert answered(server.port, "/big", 4096) == 0
    assert answered(server.port, "/big", 4097) is None
    assert still_serving(server.port)


def setdata_overhead(path):
    return 4 + 4 + len(p_str(path)) + 4 + 4


def rejected_count(server):
    return int(mntr_of(server)["zk_large_requests_rejected"])


def test_large_requests_share_a_server_wide_budget(server_factory, client_factory):
    """largeRequestThreshold / largeRequestMaxBytes (ZooKeeperServer.checkRequestSize...): frames
    longer than the threshold may together hold at most the budget while they await replies; a
    connection whose request would pass it is closed without a reply and counted."""
    server = server_factory(largeRequestThreshold=1000, largeRequestMaxBytes=4000)
    zk = client_factory(server)
    zk.create("/big", b"")
    assert rejected_count(server) == 0
    # One after another, each large request gives its bytes back when answered.
    for _ in range(5):
        assert answered(server.port, "/big", 3000) == 0
    assert rejected_count(server) == 0
    # One larger than the whole budget can never fit: closed, nothing stored, counted.
    assert answered(server.port, "/big", 4001) is None
    assert zk.get("/big")[1].dataLength == 3000 - setdata_overhead("/big")
    assert rejected_count(server) >= 1
    # Frames at or below the threshold are not counted, however many are in flight at once.
    client = WireClient(server.port)
    try:
        client.sock.sendall(set_data_frame("/big", 1000) * 20)
        for _ in range(20):
            assert int.from_bytes(recv_frame(client.sock)[12:16], "big", signed=True) == 0
    finally:
        client.sock.close()
    assert still_serving(server.port)


def replies_before_close(client, expected):
    """How many replies arrive before the server closes the connection (at most `expected`)."""
    got = 0
    try:
        while got < expected:
            recv_frame(client.sock)
            got += 1
    except (ConnectionError, socket.timeout, OSError):
        pass
    return got


def test_two_large_requests_in_flight_at_once_pass_the_budget(server_factory):
    """Two 3000-byte requests sent back to back: the second arrives while the first awaits its
    fsync, so the two would hold 6000 bytes of a 4000-byte budget and the connection is closed
    (before the first reply is written, in both servers). Should the first be answered before
    the second is read, both pass: the attempt is repeated, and one closing must be seen."""
    server = server_factory(largeRequestThreshold=1000, largeRequestMaxBytes=4000)
    setup = WireClient(server.port)
    assert setup.create("/big")[0] == 0
    setup.close()
    outcomes = []
    for _ in range(5):
        client = WireClient(server.port)
        try:
            client.sock.sendall(set_data_frame("/big", 3000) * 2)
            outcomes.append(replies_before_close(client, 2))
        finally:
            client.sock.close()
        if outcomes[-1] < 2:
            break
    assert outcomes[-1] < 2, f"replies per attempt: {outcomes}"
    assert rejected_count(server) >= 1
    assert still_serving(server.port)
