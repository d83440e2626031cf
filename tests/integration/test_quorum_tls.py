"""TLS between ensemble members (sslQuorum, portUnification, ssl.quorum.*, sslQuorumReloadCertFiles),
against zookube and ZooKeeper 3.8 alike, and in mixed ensembles of both.

Every member has its own certificate from one CA, naming 127.0.0.1 (ZooKeeper's quorum checks
the address of both ends against their certificates). Hostile peers are played with Python's
ssl module on the election and quorum ports: the member closes them and the ensemble serves on.
"""

import os
import socket
import ssl
import struct

import pytest

import harness
import refzk
from ensemble import Ensemble, mntr_value, mode_of
from test_mixed_ensemble import ensembles, write_past_commit_log  # noqa: F401 (a fixture)
from test_tls import closed_within, make_ca, make_cert
from writer import Writer

HANDSHAKE_TIMEOUT_MS = 1000
CLOSE_DEADLINE_S = HANDSHAKE_TIMEOUT_MS / 1000 + 4


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("quorum-certs"))
    make_ca(d, "ca")
    make_ca(d, "rogue-ca")
    make_ca(d, "next-ca")
    for sid in (1, 2, 3):
        make_cert(d, f"member{sid}", f"/CN=member{sid}", san="IP:127.0.0.1,DNS:localhost")
    make_cert(d, "member1-next", "/CN=member1", ca="next-ca", san="IP:127.0.0.1,DNS:localhost")
    make_cert(d, "rogue", "/CN=member1", ca="rogue-ca", san="IP:127.0.0.1,DNS:localhost")
    make_cert(d, "elsewhere", "/CN=elsewhere.example.org", san="DNS:elsewhere.example.org")
    p = lambda name: os.path.join(d, name)  # noqa: E731
    for name in ("member1", "member2", "member3", "member1-next"):
        with open(p(f"{name}-keystore.pem"), "w") as out:
            out.write(open(p(f"{name}.key")).read() + open(p(f"{name}.pem")).read())
    with open(p("both-cas.pem"), "w") as out:
        out.write(open(p("ca.pem")).read() + open(p("next-ca.pem")).read())
    return p


def tls_keys(certs, sid, trust="ca.pem"):
    """A member's ssl.quorum.* keys (its key store is written per member: rotation edits it)."""
    return {
        "ssl.quorum.keyStore.location": certs(f"member{sid}-keystore.pem"),
        "ssl.quorum.trustStore.location": certs(trust),
        "ssl.quorum.handshakeDetectionTimeoutMillis": str(HANDSHAKE_TIMEOUT_MS),
    }


def tls_ensemble(tmp_path, certs, impls=None, trust="ca.pem", **cfg):
    ens = Ensemble(str(tmp_path), voters=3, **cfg)
    for sid, member in ens.members.items():
        if impls:
            member.impl = impls[sid - 1]
        member.cfg.update(tls_keys(certs, sid, trust))
        member.cfg["sslQuorum"] = "true"
    return ens


def written_everywhere(ens, client_factory, path, data=b""):
    client_factory(ens.leader().hosts).create(path, data)
    for member in ens.members.values():
        zk = client_factory(member.hosts)
        zk.sync(path)
        assert zk.get(path)[0] == data, f"{path} on {member.impl} member {member.myid}"


def peer_socket(port, certs, cert="member2", ca="ca"):
    """A TLS connection to a member's quorum or election port, as another member would open it
    (the handshake is not done yet)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(certs(f"{ca}.pem"))
    if cert:
        ctx.load_cert_chain(certs(f"{cert}.pem"), certs(f"{cert}.key"))
    raw = socket.create_connection(("127.0.0.1", port), timeout=CLOSE_DEADLINE_S)
    return ctx.wrap_socket(raw, do_handshake_on_connect=False)


def refused_over_tls(sock):
    """Handshakes, then waits for the member to close; True when it closed in time."""
    try:
        sock.do_handshake()
    except (ssl.SSLError, OSError):
        return True
    return closed_within(sock, CLOSE_DEADLINE_S) is not None


def plain_socket(port):
    return socket.create_connection(("127.0.0.1", port), timeout=CLOSE_DEADLINE_S)


def election_hello(sid=99, address="127.0.0.1:1"):
    """An election connection's plaintext initial message (protocol version, sid, address)."""
    body = struct.pack(">qi", sid, len(address)) + address.encode()
    return struct.pack(">qi", -65536, len(body)) + body


def test_an_ensemble_with_ssl_quorum_serves_and_its_ports_speak_only_tls(
        tmp_path, certs, ensembles, client_factory):
    ens = tls_ensemble(tmp_path, certs)
    ensembles.append(ens)
    ens.start()
    written_everywhere(ens, client_factory, "/over-tls", b"sealed")
    leader = ens.leader()
    # A member's own certificate opens a TLS link to each port; plaintext is closed.
    for port in (leader.quorum_port, leader.election_port):
        with peer_socket(port, certs) as sock:
            sock.do_handshake()
            assert sock.version() is not None
        with plain_socket(port) as sock:
            sock.sendall(election_hello())
            assert closed_within(sock, CLOSE_DEADLINE_S) is not None
    if leader.impl == "zookube":
        assert mntr_value(leader, "zk_quorum_tls_handshakes") >= 2


def test_hostile_peers_on_the_tls_quorum_ports_are_closed_and_the_ensemble_serves_on(
        tmp_path, certs, ensembles, client_factory):
    ens = tls_ensemble(tmp_path, certs)
    ensembles.append(ens)
    ens.start()
    leader = ens.leader()
    before = mntr_value(leader, "zk_quorum_unsuccessful_handshake")
    cases = 0
    for port in (leader.quorum_port, leader.election_port):
        with plain_socket(port) as sock:  # a plaintext member
            sock.sendall(election_hello())
            assert closed_within(sock, CLOSE_DEADLINE_S) is not None
        with plain_socket(port) as sock:  # a record header, then no TLS at all
            sock.sendall(b"\x16\x03\x01\x00\x40" + os.urandom(64))
            assert closed_within(sock, CLOSE_DEADLINE_S) is not None
        with plain_socket(port) as sock:  # connects and says nothing
            assert closed_within(sock, CLOSE_DEADLINE_S) is not None
        with peer_socket(port, certs, cert="rogue") as sock:  # a certificate we do not trust
            assert refused_over_tls(sock)
        with peer_socket(port, certs, cert=None) as sock:  # no certificate (clientAuth need)
            assert refused_over_tls(sock)
        with peer_socket(port, certs, cert="elsewhere") as sock:  # names another host
            assert refused_over_tls(sock)
        cases += 6
    assert all(m.alive() for m in ens.members.values())
    assert ens.leader() is leader
    written_everywhere(ens, client_factory, "/after-hostile-peers")
    if leader.impl == "zookube":
        harness.wait_until(
            lambda: mntr_value(leader, "zk_quorum_unsuccessful_handshake") >= before + cases,
            timeout=5, what="every refused peer counted")


def test_unified_quorum_ports_close_stalled_and_broken_handshakes_and_serve_on(
        tmp_path, certs, ensembles, client_factory):
    ens = tls_ensemble(tmp_path, certs, portUnification="true")
    ensembles.append(ens)
    ens.start()
    leader = ens.leader()
    for port in (leader.quorum_port, leader.election_port):
        with plain_socket(port) as sock:  # says nothing: neither TLS nor a member
            assert closed_within(sock, CLOSE_DEADLINE_S) is not None
        with plain_socket(port) as sock:  # starts a TLS record, then garbage
            sock.sendall(b"\x16\x03\x01\x00\x40" + os.urandom(64))
            assert closed_within(sock, CLOSE_DEADLINE_S) is not None
        with peer_socket(port, certs, cert="rogue") as sock:
            assert refused_over_tls(sock)
    assert all(m.alive() for m in ens.members.values())
    written_everywhere(ens, client_factory, "/unified")


def test_a_learner_far_behind_catches_up_by_snapshot_over_tls(
        tmp_path, certs, ensembles, client_factory):
    ens = tls_ensemble(tmp_path, certs)
    ensembles.append(ens)
    ens.start()
    behind = ens.followers()[0]
    behind.stop()
    zk = client_factory(ens.leader().hosts)
    parent, expected = write_past_commit_log(zk, b"v" * 100)  # SNAP, not DIFF
    behind.launch()
    ens.wait_serving()
    caught_up = client_factory(behind.hosts)
    caught_up.sync(parent)
    assert sorted(caught_up.get_children(parent)) == expected


def restart_with(ens, member, **changes):
    member.stop()
    member.cfg.update(changes)
    member.cfg_changed = True
    member.launch()
    ens.wait_serving()


def rolling_restart(ens, writer, **changes):
    """Followers first, the leader last, as an operator rolls an ensemble."""
    order = [m for m in ens.members.values() if mode_of(m) != "leader"] + [ens.leader()]
    for member in order:
        restart_with(ens, member, **changes)
        writer.wait_for_more(10)


def test_a_plaintext_ensemble_moves_to_tls_by_rolling_restarts_without_losing_writes(
        tmp_path, certs, ensembles, client_factory):
    ens = Ensemble(str(tmp_path), voters=3)
    ensembles.append(ens)
    ens.start()
    zk = client_factory(ens.hosts)
    with Writer(zk, zk.create("/migration")) as writer:
        writer.wait_for_more(10)
        for member in ens.members.values():  # step 1: every member takes both, dials plaintext
            member.cfg.update(tls_keys(certs, member.myid))
        rolling_restart(ens, writer, portUnification="true")
        rolling_restart(ens, writer, sslQuorum="true")  # step 2: every member dials TLS
        rolling_restart(ens, writer, portUnification="false")  # step 3: only TLS is taken
    assert writer.failures == []
    assert writer.lost() == []
    leader = ens.leader()
    with plain_socket(leader.election_port) as sock:
        sock.sendall(election_hello())
        assert closed_within(sock, CLOSE_DEADLINE_S) is not None


def test_changed_key_store_serves_new_handshakes_without_a_restart(
        tmp_path, certs, ensembles, client_factory):
    ens = tls_ensemble(tmp_path, certs, trust="both-cas.pem", sslQuorumReloadCertFiles="true")
    member1 = ens.members[1]
    keystore = os.path.join(str(tmp_path), "member1-keystore.pem")
    with open(certs("member1-keystore.pem")) as f:
        original = f.read()
    with open(keystore, "w") as f:
        f.write(original)
    member1.cfg["ssl.quorum.keyStore.location"] = keystore
    ensembles.append(ens)
    ens.start()
    with peer_socket(member1.election_port, certs, ca="next-ca") as sock:
        assert refused_over_tls(sock)  # still the first CA's certificate
    # Replaced whole, as a certificate manager writes it: no handshake reads half a file.
    with open(certs("member1-next-keystore.pem")) as f:
        rotated = f.read()
    with open(keystore + ".new", "w") as f:
        f.write(rotated)
    os.replace(keystore + ".new", keystore)

    def rotated_certificate_shown():
        with peer_socket(member1.election_port, certs, ca="next-ca") as sock:
            try:
                sock.do_handshake()
                return True
            except ssl.SSLError:
                return False

    harness.wait_until(rotated_certificate_shown, timeout=15, interval=0.3,
                       what="member 1 showing its rotated certificate")
    assert member1.alive()
    written_everywhere(ens, client_factory, "/after-rotation")


@pytest.mark.skipif(not refzk.available(),
                    reason="Apache ZooKeeper (Debian's zookeeper) is not installed")
@pytest.mark.parametrize("impls", [["apache", "apache", "zookube"],
                                   ["zookube", "zookube", "apache"]],
                         ids=["zookube-leads-zookeeper", "zookeeper-leads-zookube"])
def test_mixed_ensemble_over_tls(tmp_path, certs, ensembles, client_factory, impls):
    ens = tls_ensemble(tmp_path, certs, impls=impls)
    ensembles.append(ens)
    ens.start()
    leader = ens.leader()
    if leader.impl != impls[2]:
        # Two zookube members may elect before the JVM is up; without their leader, the
        # highest id leads (equal histories), and the stopped member rejoins it as a learner.
        leader.stop()
        ens.wait_serving()
        leader.launch()
        leader = ens.wait_serving()
    assert leader.impl == impls[2]
    written_everywhere(ens, client_factory, "/mixed-tls", b"both")
    # A learner of the other implementation rejoins over TLS and catches up.
    learner = ens.members[1]
    learner.stop()
    client_factory(leader.hosts).create("/while-away", b"x")
    learner.launch()
    ens.wait_serving()
    caught_up = client_factory(learner.hosts)
    caught_up.sync("/while-away")
    assert caught_up.get("/while-away")[0] == b"x"
