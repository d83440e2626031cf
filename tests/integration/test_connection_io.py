"""How the server reads and writes one connection: replies that do not fit the socket, pipelined
requests, and the idle deadline that only silence may reach."""

import time

from test_bad_input import closed_by_server
from zkwire import (OP_GETDATA, OP_PING, PING_XID, Cursor, WireClient, frame, p_bool, p_int,
                    p_str, recv_frame)


def get_request(xid, path):
    return frame(p_int(xid) + p_int(OP_GETDATA) + p_str(path) + p_bool(False))


def read_reply(sock):
    c = Cursor(recv_frame(sock))
    return c.int(), c.long(), c.int(), c


def test_replies_that_overflow_the_socket_arrive_whole_and_in_order(zk_server, zk, base):
    big = base + "/big"
    value = bytes(range(256)) * 1024  # 256 KiB with a pattern, so a misplaced byte shows
    zk.create(big, value)
    late = WireClient(zk_server.port, timeout_ms=40 * zk_server.tick_ms)
    count = 80  # 20 MiB of replies: more than both ends' socket buffers hold (tcp_wmem, tcp_rmem)
    late.sock.sendall(b"".join(get_request(xid, big) for xid in range(1, count + 1)))
    # While those replies wait on the unread socket, other sessions are served.
    for i in range(5):
        zk.set(base, str(i).encode())
        assert zk.get(base)[0] == str(i).encode()
    for xid in range(1, count + 1):
        reply_xid, _, err, body = read_reply(late.sock)
        assert (reply_xid, err) == (xid, 0)
        assert body.buf() == value, f"reply {xid} differs from the node's data"
    late.close()


def test_pipelined_requests_in_one_segment_are_all_answered(zk_server, zk, base):
    zk.create(base + "/n", b"v")
    client = WireClient(zk_server.port)
    count = 500
    client.sock.sendall(b"".join(get_request(xid, base + "/n") for xid in range(1, count + 1)))
    assert [read_reply(client.sock)[0] for _ in range(count)] == list(range(1, count + 1))
    client.close()


def test_silent_connection_is_closed_at_its_session_timeout_not_before(zk_server):
    client = WireClient(zk_server.port, timeout_ms=4 * zk_server.tick_ms)
    opened = time.monotonic()
    assert closed_by_server(client.sock, timeout=20.0)
    assert time.monotonic() - opened >= 0.9 * client.timeout_ms / 1000
    client.sock.close()


def test_pings_keep_a_connection_open_past_its_timeout(zk_server):
    client = WireClient(zk_server.port, timeout_ms=4 * zk_server.tick_ms)
    timeout_s = client.timeout_ms / 1000
    end = time.monotonic() + 3 * timeout_s
    pings = 0
    while time.monotonic() < end:
        client.sock.sendall(frame(p_int(PING_XID) + p_int(OP_PING)))
        assert read_reply(client.sock)[0] == PING_XID
        pings += 1
        time.sleep(timeout_s / 4)  # pacing the pings, well inside the timeout
    assert pings >= 8
    # Silence from now on: the deadline the pings kept moving is reached.
    assert closed_by_server(client.sock, timeout=20.0)
    client.sock.close()
