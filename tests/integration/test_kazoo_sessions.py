"""Sessions: negotiation, reconnect with id+password, expiry, close, watches across reconnects."""

import threading

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.states import EventType

from harness import wait_until
from zkwire import EV_CHANGED, EV_CHILD, Cursor, WireClient, connect_payload, frame, recv_frame
import socket


def test_connect_gives_session_id_and_16_byte_password(zk):
    session_id, passwd = zk.client_id
    assert session_id != 0
    assert len(passwd) == 16
    assert zk.connected


@pytest.mark.parametrize("asked_ticks,expected_ticks", [(0.5, 2), (1, 2), (7, 7), (20, 20), (100, 20)])
def test_negotiated_timeout_clamped_to_2_and_20_ticks(zk_server, asked_ticks, expected_ticks):
    tick = zk_server.tick_ms
    c = WireClient(zk_server.port, timeout_ms=int(asked_ticks * tick))
    try:
        assert c.timeout_ms == expected_ticks * tick
    finally:
        c.close()


def test_distinct_sessions_get_distinct_ids(zk_server, client_factory):
    ids = {client_factory(zk_server).client_id[0] for _ in range(3)}
    assert len(ids) == 3


def test_reconnect_with_id_and_password_keeps_session_and_ephemerals(zk_server, client_factory, base):
    first = WireClient(zk_server.port, timeout_ms=4000)
    err, _ = first.create(base + "/eph", b"mine", flags=1)
    assert err == 0
    first.close(send_close=False)  # drop the socket, keep the session

    again = client_factory(zk_server, client_id=(first.session_id, first.passwd))
    assert again.client_id[0] == first.session_id
    data, stat = again.get(base + "/eph")
    assert data == b"mine"
    assert stat.ephemeralOwner == first.session_id
    # The session is still usable for new ephemerals under the same owner.
    again.create(base + "/eph2", ephemeral=True)
    assert again.exists(base + "/eph2").ephemeralOwner == first.session_id


def test_wrong_password_is_refused_as_expired(zk_server, base):
    owner = WireClient(zk_server.port, timeout_ms=4000)
    try:
        assert owner.create(base + "/e", flags=1)[0] == 0
        bad = bytes(b ^ 0xFF for b in owner.passwd)
        with socket.create_connection(("127.0.0.1", zk_server.port), timeout=10) as s:
            s.sendall(frame(connect_payload(4000, owner.session_id, bad)))
            c = Cursor(recv_frame(s))
            c.int()
            assert c.int() == 0, "an expired/refused session has timeout 0"
            assert c.long() == 0, "and session id 0"
        # ZooKeeper drops the owner's socket on any reconnect attempt, but the session lives on.
        owner.close(send_close=False)
        owner = WireClient(zk_server.port, session_id=owner.session_id, passwd=owner.passwd)
        assert owner.session_id != 0
        err, stat = owner.exists(base + "/e")
        assert err == 0 and stat["ephemeralOwner"] == owner.session_id
    finally:
        owner.close()


def test_kazoo_with_wrong_password_gets_a_new_session(zk_server, client_factory):
    owner = client_factory(zk_server)
    sid, pw = owner.client_id
    bad = bytes(b ^ 0x55 for b in pw)
    other = client_factory(zk_server, client_id=(sid, bad))
    assert other.client_id[0] not in (0, sid)


def test_expiry_removes_ephemerals_and_fires_other_sessions_watches(zk_server, zk, base):
    doomed = WireClient(zk_server.port, timeout_ms=2 * zk_server.tick_ms)
    assert doomed.create(base + "/eph", flags=1)[0] == 0
    assert doomed.create(base + "/seq-", flags=3)[0] == 0
    deleted = threading.Event()
    children = threading.Event()

    def on_exists(event):
        if event.type == EventType.DELETED:
            deleted.set()

    assert zk.exists(base + "/eph", watch=on_exists) is not None
    zk.get_children(base, watch=lambda e: children.set())
    doomed.close(send_close=False)  # stop pinging: the server must expire it

    assert deleted.wait(15), "no NodeDeleted after the session expired"
    assert children.wait(5)
    assert zk.get_children(base) == []


def test_close_removes_ephemerals_at_once(zk_server, zk, client_factory, base):
    other = client_factory(zk_server)
    other.create(base + "/e1", ephemeral=True)
    other.create(base + "/e2-", ephemeral=True, sequence=True)
    assert len(zk.get_children(base)) == 2
    other.stop()
    assert zk.get_children(base) == []


def test_closed_session_cannot_be_resumed(zk_server, base):
    c = WireClient(zk_server.port)
    sid, pw = c.session_id, c.passwd
    c.close()
    with socket.create_connection(("127.0.0.1", zk_server.port), timeout=10) as s:
        s.sendall(frame(connect_payload(4000, sid, pw)))
        r = Cursor(recv_frame(s))
        r.int()
        assert r.int() == 0
        assert r.long() == 0


def test_session_and_ephemerals_survive_server_restart(server_factory, client_factory):
    server = server_factory()
    client = client_factory(server)
    sid = client.client_id[0]
    client.create("/eph", ephemeral=True)
    reconnected = threading.Event()
    client.add_listener(lambda s: reconnected.set() if s == "CONNECTED" else None)

    server.restart()
    assert reconnected.wait(20), "kazoo did not reconnect after the restart"
    assert client.client_id[0] == sid
    assert client.exists("/eph").ephemeralOwner == sid


def test_set_watches_after_reconnect_rearms_and_reports_missed_changes(zk_server, zk, base):
    zk.create(base + "/missed", b"0")
    zk.create(base + "/later", b"0")
    first = WireClient(zk_server.port)
    assert first.get(base + "/missed", watch=True)[0] == 0
    seen_zxid = first.last_zxid
    first.close(send_close=False)

    zk.set(base + "/missed", b"1")  # changes while the client is away
    again = WireClient(zk_server.port, session_id=first.session_id, passwd=first.passwd)
    assert again.session_id == first.session_id
    err, _ = again.set_watches(seen_zxid, data=[base + "/missed", base + "/later"],
                               child=[base])
    assert err == 0
    event = again.wait_event()
    assert (event.type, event.path) == (EV_CHANGED, base + "/missed")

    zk.create(base + "/new")  # the re-armed child watch on base fires now
    event = again.wait_event()
    assert (event.type, event.path) == (EV_CHILD, base)
    zk.set(base + "/later", b"1")
    event = again.wait_event()
    assert (event.type, event.path) == (EV_CHANGED, base + "/later")
    again.close()


def test_expired_client_state_reported_to_kazoo(zk_server, client_factory, base):
    victim = client_factory(zk_server)
    states = []
    lost = threading.Event()

    def listener(state):
        states.append(state)
        if state == "LOST":
            lost.set()

    victim.add_listener(listener)
    victim.create(base + "/v", ephemeral=True)
    sid, pw = victim.client_id
    # Another connection takes the session over and closes it: the server expires it for kazoo.
    hijack = KazooClient(hosts=zk_server.hosts, client_id=(sid, pw))
    hijack.start(timeout=15)
    hijack.stop()
    hijack.close()
    assert lost.wait(20), f"states seen: {states}"
    wait_until(lambda: victim.connected, timeout=20, what="kazoo new session")
    assert victim.exists(base + "/v") is None
