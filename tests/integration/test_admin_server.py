"""ZooKeeper's AdminServer (HTTP, JSON): every command under its names, the same keys and value
kinds on both implementations (the expected sets below are what ZooKeeper 3.8 answers), and
hostile input answered as Jetty answers it, after which the server still serves."""

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

import harness
from harness import free_port, wait_until

IDLE_TIMEOUT_MS = 1500

NUMBER, STRING, BOOL, LIST, OBJECT, NULL = "number", "string", "bool", "list", "object", "null"


def kind(value):
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    return LIST if isinstance(value, list) else OBJECT


def kinds(answer):
    return {k: kind(v) for k, v in answer.items()}


COMMON = {"command": STRING, "error": NULL}
BUFFER_STATS = {"last_buffer_size": NUMBER, "min_buffer_size": NUMBER, "max_buffer_size": NUMBER}
SERVER_STATS = {
    "packets_sent": NUMBER, "packets_received": NUMBER, "fsync_threshold_exceed_count": NUMBER,
    "client_response_stats": OBJECT, "data_dir_size": NUMBER, "log_dir_size": NUMBER,
    "provider_null": BOOL, "server_state": STRING, "last_processed_zxid": NUMBER,
    "outstanding_requests": NUMBER, "avg_latency": NUMBER, "max_latency": NUMBER,
    "min_latency": NUMBER, "num_alive_client_connections": NUMBER, "auth_failed_count": NUMBER,
    "non_mtlsremote_conn_count": NUMBER, "non_mtlslocal_conn_count": NUMBER, "uptime": NUMBER,
}
SRVR = {"version": STRING, "read_only": BOOL, "server_stats": OBJECT,
        "client_response": OBJECT, "node_count": NUMBER}
CONNECTIONS = {"connections": LIST, "secure_connections": LIST}
CONNECTION_BRIEF = {"remote_socket_address": STRING, "interest_ops": NUMBER,
                    "outstanding_requests": NUMBER, "packets_received": NUMBER,
                    "packets_sent": NUMBER}
CONNECTION_FULL = {**CONNECTION_BRIEF, "session_id": NUMBER, "last_operation": STRING,
                   "established": NUMBER, "session_timeout": NUMBER, "last_cxid": NUMBER,
                   "last_zxid": NUMBER, "last_response_time": NUMBER, "last_latency": NUMBER,
                   "min_latency": NUMBER, "avg_latency": NUMBER, "max_latency": NUMBER}

# Primary name -> (aliases, the exact keys of a standalone server's answer besides COMMON).
EXACT = {
    "ruok": ([], {}),
    "configuration": (["conf", "config"], {
        "client_port": NUMBER, "data_dir": STRING, "data_log_dir": STRING, "tick_time": NUMBER,
        "max_client_cnxns": NUMBER, "min_session_timeout": NUMBER, "max_session_timeout": NUMBER,
        "server_id": NUMBER, "client_port_listen_backlog": NUMBER}),
    "connections": (["cons"], CONNECTIONS),
    "connection_stat_reset": (["crst"], {}),
    "stat_reset": (["srst"], {}),
    "server_stats": (["srvr"], SRVR),
    "stats": (["stat"], {**SRVR, **CONNECTIONS}),
    "dirs": ([], {"datadir_size": NUMBER, "logdir_size": NUMBER}),
    "dump": ([], {"expiry_time_to_session_ids": OBJECT, "session_id_to_ephemeral_paths": OBJECT}),
    "get_trace_mask": (["gtmk"], {"tracemask": NUMBER}),
    "hash": ([], {"digests": LIST}),
    "initial_configuration": (["icfg"], {"initial_configuration": STRING}),
    "is_read_only": (["isro"], {"read_only": BOOL}),
    "last_snapshot": (["lsnp"], {"zxid": STRING, "timestamp": NUMBER}),
    "observers": (["obsr"], {"synced_observers": NUMBER, "observers": LIST}),
    "observer_connection_stat_reset": (["orst"], {}),
    "voting_view": ([], {"current_config": OBJECT}),
    "watch_summary": (["wchs"], {"num_connections": NUMBER, "num_paths": NUMBER,
                                 "num_total_watches": NUMBER}),
    "watches": (["wchc"], {"session_id_to_watched_paths": OBJECT}),
    "watches_by_path": (["wchp"], {"path_to_session_ids": OBJECT}),
    "zabstate": ([], {"voting": BOOL, "zabstate": STRING}),
}
# Commands whose answer has more keys on ZooKeeper (JVM figures): the keys both must have.
AT_LEAST = {
    "monitor": (["mntr"], {
        "version": STRING, "server_state": STRING, "avg_latency": NUMBER, "max_latency": NUMBER,
        "min_latency": NUMBER, "packets_received": NUMBER, "packets_sent": NUMBER,
        "num_alive_connections": NUMBER, "outstanding_requests": NUMBER, "uptime": NUMBER,
        "znode_count": NUMBER, "watch_count": NUMBER, "ephemerals_count": NUMBER,
        "approximate_data_size": NUMBER, "global_sessions": NUMBER, "local_sessions": NUMBER,
        "open_file_descriptor_count": NUMBER, "max_file_descriptor_count": NUMBER,
        "last_client_response_size": NUMBER, "max_client_response_size": NUMBER,
        "min_client_response_size": NUMBER, "auth_failed_count": NUMBER,
        "large_requests_rejected": NUMBER, "avg_fsynctime": NUMBER, "cnt_fsynctime": NUMBER,
        "avg_readlatency": NUMBER, "avg_updatelatency": NUMBER}),
    "environment": (["env", "envi"], {
        "zookeeper.version": STRING, "host.name": STRING, "os.name": STRING, "os.arch": STRING,
        "os.version": STRING, "user.name": STRING, "user.home": STRING, "user.dir": STRING}),
    "system_properties": (["sysp"], {
        "file.separator": STRING, "line.separator": STRING, "path.separator": STRING,
        "os.name": STRING, "os.arch": STRING, "os.version": STRING, "user.name": STRING,
        "user.home": STRING, "user.dir": STRING}),
}


def admin_server(server_factory, idle_timeout_ms):
    port = free_port()
    server = server_factory(admin__enableServer="true", admin__serverAddress="127.0.0.1",
                            admin__serverPort=port, admin__idleTimeout=idle_timeout_ms)
    server.admin_port = port
    wait_until(lambda: http_get(server, "/commands/ruok")[0] == 200, timeout=15,
               what="the AdminServer answering")
    return server


@pytest.fixture
def admin(server_factory):
    return admin_server(server_factory, IDLE_TIMEOUT_MS)


def http_get(server, path, timeout=5.0):
    """(status, content type, body bytes); no exception for an HTTP error status."""
    url = f"http://127.0.0.1:{server.admin_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()
    except OSError:
        return None, "", b""


def command(server, name):
    status, ctype, body = http_get(server, f"/commands/{name}")
    assert status == 200, (name, status, body)
    assert ctype.startswith("application/json"), ctype
    return json.loads(body)


def raw_exchange(server, data, deadline_s=10.0):
    """Sends data, reads until the server closes; (bytes read, seconds until the close)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.admin_port), timeout=deadline_s) as s:
        s.sendall(data)
        out = bytearray()
        while time.monotonic() - start < deadline_s:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return bytes(out), time.monotonic() - start


def closed_by_server(server, within_s):
    """Whether a new connection that sends nothing is closed by the server (EOF or reset)
    rather than left open for `within_s`."""
    with socket.create_connection(("127.0.0.1", server.admin_port), timeout=within_s) as s:
        try:
            return s.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None


def still_serving(server, client_factory):
    assert command(server, "ruok") == {"command": "ruok", "error": None}
    zk = client_factory(server)
    zk.ensure_path("/admin-still-serving")
    assert zk.exists("/admin-still-serving") is not None


@pytest.mark.parametrize("name", sorted(EXACT))
def test_command_keys_and_kinds(admin, name):
    aliases, expected = EXACT[name]
    for asked in [name, *aliases]:
        answer = command(admin, asked)
        assert answer["command"] == name
        assert kinds(answer) == {**expected, **COMMON}, asked


@pytest.mark.parametrize("name", sorted(AT_LEAST))
def test_command_keys_at_least(admin, name):
    aliases, expected = AT_LEAST[name]
    for asked in [name, *aliases]:
        answer = command(admin, asked)
        assert answer["command"] == name and answer["error"] is None
        got = kinds(answer)
        assert {k: got.get(k) for k in expected} == expected, asked


def test_leader_on_a_standalone_server(admin):
    for asked in ["leader", "lead"]:
        assert command(admin, asked) == {"command": "leader", "error": "server is not initialized"}


def test_nested_answers(admin, client_factory):
    zk = client_factory(admin)
    zk.ensure_path("/admin/w")
    zk.create("/admin/e", ephemeral=True)
    zk.get("/admin/w", watch=lambda event: None)
    session = zk.client_id[0]
    srvr = command(admin, "srvr")
    assert kinds(srvr["server_stats"]) == SERVER_STATS
    assert kinds(srvr["server_stats"]["client_response_stats"]) == BUFFER_STATS
    assert kinds(srvr["client_response"]) == BUFFER_STATS
    assert srvr["server_stats"]["server_state"] == "standalone"
    cons = command(admin, "cons")["connections"]
    assert [kinds(c) for c in cons] == [CONNECTION_FULL]
    assert cons[0]["session_id"] == session
    assert [kinds(c) for c in command(admin, "stat")["connections"]] == [CONNECTION_BRIEF]
    dump = command(admin, "dump")
    assert dump["session_id_to_ephemeral_paths"] == {str(session): ["/admin/e"]}
    assert [session] in dump["expiry_time_to_session_ids"].values()
    assert command(admin, "wchc")["session_id_to_watched_paths"] == {str(session): ["/admin/w"]}
    assert command(admin, "wchp")["path_to_session_ids"] == {"/admin/w": [session]}
    wchs = command(admin, "wchs")
    assert (wchs["num_connections"], wchs["num_paths"], wchs["num_total_watches"]) == (1, 1, 1)
    assert command(admin, "mntr")["ephemerals_count"] == 1
    icfg = command(admin, "icfg")["initial_configuration"]
    assert f"admin.serverPort={admin.admin_port}" in icfg


def test_trace_mask(admin):
    assert command(admin, "stmk") == {
        "command": "set_trace_mask", "error": "setTraceMask requires long traceMask argument"}
    bad = command(admin, "stmk?traceMask=x")["error"]
    assert bad == "setTraceMask requires long traceMask argument, got x"
    assert command(admin, "set_trace_mask?traceMask=5")["tracemask"] == 5
    assert command(admin, "gtmk")["tracemask"] == 5
    # Query parameters are form-decoded: %32 is "2".
    assert command(admin, "stmk?other=a+b&traceMask=1%32")["tracemask"] == 12


@pytest.mark.parametrize("name", ["nosuch", "commands", "RUOK", "ruok/extra"])
def test_unknown_command(admin, name):
    assert command(admin, name) == {"command": name, "error": f"Unknown command: {name}"}


def test_escaped_names(admin):
    assert command(admin, "%72uok") == {"command": "ruok", "error": None}
    assert command(admin, "%C3%A9t%C3%A9")["error"] == "Unknown command: \u00e9t\u00e9"
    # Not UTF-8: read as ISO-8859-1.
    assert command(admin, "%FF")["error"] == "Unknown command: \u00ff"


def test_command_list_and_other_paths(admin):
    for path in ["/commands", "/commands/"]:
        status, _, body = http_get(admin, path)
        assert status == 200
        links = body.decode()
        for name in [*EXACT, *AT_LEAST, "leader"]:
            assert f'<a href="/commands/{name}">{name}</a>' in links
    assert http_get(admin, "/")[0] == 404
    assert http_get(admin, "/commandsX/ruok")[0] == 404
    request = urllib.request.Request(f"http://127.0.0.1:{admin.admin_port}/commands/ruok",
                                     data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 405


def test_head_has_the_headers_of_get(admin):
    request = urllib.request.Request(f"http://127.0.0.1:{admin.admin_port}/commands/ruok",
                                     method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("application/json")
        get_length = len(http_get(admin, "/commands/ruok")[2])
        assert int(r.headers["Content-Length"]) == get_length
        assert r.read() == b""


def test_not_http(admin, client_factory):
    reply, _ = raw_exchange(admin, b"\x00\x00\x00\x2c\x00\x00\x00\x00garbage\r\n\r\n")
    assert status_of(reply) == 400
    reply, _ = raw_exchange(admin, b"ruok\r\n\r\n")
    assert status_of(reply) == 400
    still_serving(admin, client_factory)


def test_request_over_the_size_limit(admin, client_factory):
    big_header = (b"GET /commands/ruok HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 +
                  b"\r\n\r\n")
    assert status_of(raw_exchange(admin, big_header)[0]) == 431
    long_line = b"GET /commands/" + b"r" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert status_of(raw_exchange(admin, long_line)[0]) == 414
    still_serving(admin, client_factory)


def test_slowloris_is_disconnected(admin, client_factory):
    deadline_s = IDLE_TIMEOUT_MS / 1000 + 10
    reply, took = raw_exchange(admin, b"GET /commands/ruok HTTP/1.1\r\nHost: x\r\n", deadline_s)
    assert reply == b"" and took < deadline_s, (reply, took)
    # Trickled bytes do not keep a connection open forever either.
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", admin.admin_port), timeout=5) as s:
        closed = False
        while not closed and time.monotonic() - start < deadline_s * 3:
            try:
                s.sendall(b"X-Slow: a\r\n")
                s.settimeout(0.5)
                closed = s.recv(1) == b""
            except socket.timeout:
                continue
            except OSError:
                closed = True
        assert closed, "a trickling client kept its connection"
    still_serving(admin, client_factory)


ADMIN_MAX_SESSIONS = 64  # server/net/admin_server.h, kMaxSessions


@pytest.mark.skipif(harness.impl() != "zookube",
                    reason="zookube's own cap: Jetty queues such connections on its thread pool")
def test_idle_connections_past_the_cap_are_closed_and_the_rest_still_served(server_factory,
                                                                          client_factory):
    # Idle connections that the server keeps for the whole test.
    admin = admin_server(server_factory, 120_000)
    idle = [socket.create_connection(("127.0.0.1", admin.admin_port), timeout=5)
            for _ in range(ADMIN_MAX_SESSIONS)]
    try:
        # Each is accepted and waits for its request; one more is closed as it is accepted.
        wait_until(lambda: closed_by_server(admin, within_s=2), timeout=10,
                   what="a connection past the cap closed by the server")
        assert http_get(admin, "/commands/ruok")[0] is None
        zk = client_factory(admin)
        zk.ensure_path("/admin-cap")  # the client port is not affected
    finally:
        for s in idle[:8]:
            s.close()
    try:
        wait_until(lambda: http_get(admin, "/commands/ruok")[0] == 200, timeout=10,
                   what="the AdminServer serving again once connections closed")
    finally:
        for s in idle[8:]:
            s.close()


def test_keep_alive_answers_many(admin):
    with socket.create_connection(("127.0.0.1", admin.admin_port), timeout=5) as s:
        s.sendall(b"GET /commands/ruok HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
        data = bytearray()
        end = time.monotonic() + 5
        while data.count(b'"command"') < 3 and time.monotonic() < end:
            data += s.recv(65536)
    assert data.count(b"HTTP/1.1 200") == 3


# ZooKeeper's MultipleAddresses bean, and QuorumServerView.
ADDRESSES = {"empty": BOOL, "all_addresses": LIST, "all_reachable_addresses": LIST, "one": STRING,
             "reachable_address": STRING, "wildcard_addresses": LIST, "all_ports": LIST,
             "all_host_strings": LIST, "all_reachable_addresses_or_all": LIST,
             "reachable_or_one": STRING}
SERVER_VIEW = {"server_addresses": LIST, "election_addresses": LIST, "client_address": STRING,
               "learner_type": STRING}
ZABSTATE_MEMBER = {"myid": NUMBER, "is_leader": BOOL, "quorum_address": OBJECT,
                   "election_address": OBJECT, "client_address": STRING, "voting": BOOL,
                   "last_zxid": STRING, "zab_epoch": NUMBER, "zab_counter": NUMBER,
                   "zabstate": STRING}


def test_ensemble_members(tmp_path):
    from ensemble import Ensemble
    ens = Ensemble(str(tmp_path), voters=3)
    for member in ens.members.values():
        member.admin_port = free_port()
        member.cfg.update({"admin.enableServer": "true", "admin.serverAddress": "127.0.0.1",
                           "admin.serverPort": str(member.admin_port)})
    with ens:
        leader = ens.wait_serving()
        for sid, member in ens.members.items():
            wait_until(lambda: http_get(member, "/commands/ruok")[0] == 200, timeout=15,
                       what=f"member {sid}'s AdminServer")
            lead = command(member, "lead")
            assert kinds(lead) == {"is_leader": BOOL, "leader_id": NUMBER, "leader_ip": STRING,
                                   **COMMON}
            assert lead["is_leader"] == (member is leader)
            assert lead["leader_id"] == leader.myid
            assert lead["leader_ip"] == "127.0.0.1"
            zab = command(member, "zabstate")
            assert kinds(zab) == {**ZABSTATE_MEMBER, **COMMON}
            assert (zab["myid"], zab["voting"], zab["is_leader"]) == (sid, True, member is leader)
            assert kinds(zab["quorum_address"]) == ADDRESSES
            assert zab["quorum_address"]["one"] == f"127.0.0.1:{member.quorum_port}"
            assert zab["election_address"]["all_ports"] == [member.election_port]
            assert zab["client_address"] == f"127.0.0.1:{member.port}"
            view = command(member, "voting_view")["current_config"]
            assert sorted(view) == ["1", "2", "3"]
            for other_sid, other in ens.members.items():
                assert kinds(view[str(other_sid)]) == SERVER_VIEW
                assert view[str(other_sid)]["server_addresses"] == [
                    f"127.0.0.1:{other.quorum_port}"]
                assert view[str(other_sid)]["client_address"] == f"127.0.0.1:{other.port}"
            conf = command(member, "conf")
            assert set(conf) == set(EXACT["configuration"][1]) | set(COMMON)
            assert conf["server_id"] == sid
        wait_until(lambda: all(command(m, "zabstate")["zabstate"] == "broadcast"
                               for m in ens.members.values()), timeout=15,
                   what="every member in broadcast")
