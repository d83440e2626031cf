"""Quorum SASL (quorum.auth.*) with DIGEST-MD5: members authenticate on every election and quorum
connection with the users of a JAAS QuorumServer section and the login of a QuorumLearner
section, against zookube and ZooKeeper 3.8 alike, in mixed ensembles of both, and over TLS.

A member that cannot authenticate is refused by the others, which keep their quorum; a peer that
does not even try is refused where SASL is required and let in where it is not.
"""

import hashlib
import re
import socket
import struct

import pytest

import harness
import refzk
from ensemble import Ensemble, mntr_value, mode_of
from test_mixed_ensemble import ensembles  # noqa: F401 (a fixture)
from test_quorum_tls import certs, tls_keys  # noqa: F401 (a fixture)

SASL_KEYS = {
    "quorum.auth.enableSasl": "true",
    "quorum.auth.learnerRequireSasl": "true",
    "quorum.auth.serverRequireSasl": "true",
}


def jaas(password="quorum-secret", users='user_zkpeer="quorum-secret"'):
    return f"""QuorumServer {{
       org.apache.zookeeper.server.auth.DigestLoginModule required
       {users};
}};
QuorumLearner {{
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="zkpeer"
       password="{password}";
}};
"""


def sasl_member(member, jaas_path, **keys):
    member.cfg.update({**SASL_KEYS, **keys})
    member.cfg["java.security.auth.login.config"] = jaas_path


def sasl_ensemble(tmp_path, impls=None, **keys):
    good = tmp_path / "jaas.conf"
    good.write_text(jaas())
    ens = Ensemble(str(tmp_path), voters=3)
    for sid, member in ens.members.items():
        if impls:
            member.impl = impls[sid - 1]
        sasl_member(member, str(good), **keys)
    return ens


def written_everywhere(ens, client_factory, path, members=None):
    members = members or list(ens.members.values())
    leader = ens.leader() if members == list(ens.members.values()) else \
        next(m for m in members if mode_of(m) == "leader")
    client_factory(leader.hosts).create(path, b"x")
    for member in members:
        zk = client_factory(member.hosts)
        zk.sync(path)
        assert zk.exists(path) is not None, f"{path} missing on {member.impl} member {member.myid}"


def log_of(member):
    with open(member.log_path, errors="replace") as f:
        return f.read()


# What each implementation logs when a quorum link authenticates (ZooKeeper 3.8: its
# SaslQuorumAuthServer or SaslQuorumAuthLearner, on the accepting or the dialling side), and when
# it refuses a peer.
AUTHENTICATED = {"zookube": "quorum SASL: authenticated",
                 "apache": "Successfully completed the authentication using SASL"}
REFUSED = {"zookube": "quorum SASL failed", "apache": "Failed to authenticate using SASL"}


def authenticated(member):
    return AUTHENTICATED[member.impl] in log_of(member)


def zookube_authenticated(member):
    return member.impl != "zookube" or authenticated(member)


def serving(member):
    try:
        return mode_of(member) in ("leader", "follower", "observer")
    except OSError:
        return False


def test_members_authenticate_with_digest_md5_and_serve(tmp_path, ensembles, client_factory):
    ens = sasl_ensemble(tmp_path)
    ensembles.append(ens)
    ens.start()
    written_everywhere(ens, client_factory, "/authenticated")
    for member in ens.members.values():
        assert zookube_authenticated(member), member.log_tail()
        if member.impl == "zookube":
            assert mntr_value(member, "zk_quorum_sasl_auth_success") >= 2
            assert mntr_value(member, "zk_quorum_sasl_auth_fail") == 0
    # A follower that restarts authenticates again to the leader it rejoins.
    follower = ens.followers()[0]
    follower.stop()
    follower.launch()
    ens.wait_serving()
    written_everywhere(ens, client_factory, "/after-restart")


def test_a_member_with_a_wrong_password_is_refused_and_the_others_keep_quorum(
        tmp_path, ensembles, client_factory):
    ens = sasl_ensemble(tmp_path)
    ensembles.append(ens)
    wrong = tmp_path / "jaas-wrong.conf"
    wrong.write_text(jaas(password="not-the-secret"))
    intruder = ens.members[3]
    sasl_member(intruder, str(wrong))
    for sid in (1, 2):
        ens.members[sid].launch()
    harness.wait_until(lambda: serving(ens.members[1]) and serving(ens.members[2]), timeout=30,
                       what="members 1 and 2 serving")
    intruder.launch()
    refusal = REFUSED[ens.members[1].impl]
    # The refusal is logged by the members it dialled, naming it and the reason.
    harness.wait_until(lambda: any(refusal in log_of(ens.members[s]) for s in (1, 2)),
                       timeout=20, what="the intruder refused")
    if ens.members[1].impl == "zookube":
        lines = [line for s in (1, 2) for line in log_of(ens.members[s]).splitlines()
                 if refusal in line]
        assert any("member 3" in line and "127.0.0.1" in line for line in lines), lines
        assert sum(mntr_value(ens.members[s], "zk_quorum_sasl_auth_fail") for s in (1, 2)) >= 1
    # Several refusals later (the intruder keeps dialling) it still has not joined; the others
    # serve on.
    harness.wait_until(
        lambda: sum(log_of(ens.members[s]).count(refusal) for s in (1, 2)) >= 3, timeout=30,
        what="the intruder refused three times")
    assert not serving(intruder)
    assert intruder.alive() or intruder.impl == "apache"
    written_everywhere(ens, client_factory, "/without-the-intruder",
                       members=[ens.members[1], ens.members[2]])


def test_a_peer_that_does_not_authenticate_is_closed_where_sasl_is_required(
        tmp_path, ensembles, client_factory):
    ens = sasl_ensemble(tmp_path)
    ensembles.append(ens)
    ens.start()
    leader = ens.leader()
    # An election initial message from "member 9", then a vote-sized frame instead of auth.
    body = struct.pack(">qi", 9, len("127.0.0.1:1")) + b"127.0.0.1:1"
    hello = struct.pack(">qi", -65536, len(body)) + body
    for port, first in ((leader.election_port, hello + struct.pack(">i", 40) + b"\0" * 40),
                        (leader.quorum_port, struct.pack(">iq", 11, 0) + b"\0" * 32)):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(first)
            sock.settimeout(10)
            try:
                assert sock.recv(100) == b""
            except ConnectionResetError:
                pass
    written_everywhere(ens, client_factory, "/after-the-stranger")


def closed_within(sock, seconds):
    """True when the member closes the connection (EOF or reset) within `seconds`."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_stalled_and_oversized_exchanges_are_closed_and_the_ensemble_serves_on(
        tmp_path, ensembles, client_factory):
    ens = sasl_ensemble(tmp_path)
    ensembles.append(ens)
    ens.start()
    leader = ens.leader()
    before = mntr_value(leader, "zk_quorum_sasl_auth_fail") if leader.impl == "zookube" else 0
    body = struct.pack(">qi", 9, len("127.0.0.1:1")) + b"127.0.0.1:1"
    hello = struct.pack(">qi", -65536, len(body)) + body
    oversized = struct.pack(">qii", 0x5F2435013501EDCC, 0, 1 << 30) + b"x" * 100
    # The exchange's deadline is initLimit x tickTime (ZooKeeper's socket timeouts are
    # syncLimit x tickTime on the election port, initLimit x tickTime on the quorum port).
    deadline = 10 * leader.tick_ms / 1000 + 5
    cases = [(leader.election_port, hello), (leader.quorum_port, b""),
             (leader.election_port, hello + oversized), (leader.quorum_port, oversized)]
    for port, first in cases:
        with socket.create_connection(("127.0.0.1", port), timeout=deadline) as sock:
            sock.sendall(first)
            assert closed_within(sock, deadline), (port, first[:20])
    assert all(m.alive() for m in ens.members.values())
    written_everywhere(ens, client_factory, "/after-hostile-exchanges")
    if leader.impl == "zookube":
        assert mntr_value(leader, "zk_quorum_sasl_auth_fail") >= before + len(cases)


@pytest.mark.skipif(not refzk.available(), reason="Apache ZooKeeper is not installed")
@pytest.mark.parametrize("impls", [["apache", "apache", "zookube"],
                                   ["zookube", "zookube", "apache"]],
                         ids=["zookube-leads-zookeeper", "zookeeper-leads-zookube"])
def test_mixed_ensembles_authenticate_both_ways(tmp_path, ensembles, client_factory, impls):
    ens = sasl_ensemble(tmp_path, impls)
    ensembles.append(ens)
    ens.start()
    written_everywhere(ens, client_factory, "/mixed")
    for member in ens.members.values():
        assert zookube_authenticated(member), member.log_tail()
    each_leads_the_other(ens, client_factory, "/mixed-after-failover")


def each_leads_the_other(ens, client_factory, path):
    """In a mixed ensemble (two of one implementation, one of the other), the leader's successor
    is the other implementation (whichever led first: the JVM may start late), so each leads
    learners of the other; the old leader rejoins as a learner and `path` is replicated."""
    old = ens.leader()
    old.kill9()
    successor = ens.wait_serving()
    assert {old.impl, successor.impl} == {"apache", "zookube"}
    old.launch()
    ens.wait_serving()
    written_everywhere(ens, client_factory, path)


def restart_with(ens, member, keys):
    member.stop()
    member.cfg.update(keys)
    member.cfg_changed = True
    member.launch()
    ens.wait_serving()


@pytest.mark.parametrize("impls", [None, ["apache", "zookube", "apache"]],
                         ids=["same", "mixed"])
def test_an_ensemble_moves_to_required_sasl_by_rolling_restarts(
        tmp_path, ensembles, client_factory, impls):
    """ZooKeeper's documented upgrade: enableSasl everywhere (nobody authenticates yet), then
    learnerRequireSasl (everyone authenticates, nobody is refused), then serverRequireSasl."""
    if impls and not refzk.available():
        pytest.skip("Apache ZooKeeper is not installed")
    good = tmp_path / "jaas.conf"
    good.write_text(jaas())
    ens = Ensemble(str(tmp_path), voters=3)
    if impls:
        for sid, member in ens.members.items():
            member.impl = impls[sid - 1]
    # Members 1 and 2 have SASL enabled, member 3 knows nothing of it.
    optional = {"quorum.auth.enableSasl": "true",
                "java.security.auth.login.config": str(good)}
    for sid in (1, 2):
        ens.members[sid].cfg.update(optional)
    ensembles.append(ens)
    ens.start()
    written_everywhere(ens, client_factory, "/step0")
    steps = [optional, {"quorum.auth.learnerRequireSasl": "true"},
             {"quorum.auth.serverRequireSasl": "true"}]
    for n, keys in enumerate(steps, 1):
        for member in ens.followers() + [ens.leader()]:
            restart_with(ens, member, keys)
        written_everywhere(ens, client_factory, f"/step{n}")
    for member in ens.members.values():
        assert zookube_authenticated(member), member.log_tail()


@pytest.mark.parametrize("impls", [None, ["zookube", "apache", "zookube"],
                                   ["apache", "zookube", "zookube"]],
                         ids=["same", "mixed", "apache-lowest"])
def test_an_ensemble_leaves_required_sasl_by_rolling_restarts(
        tmp_path, ensembles, client_factory, impls):
    """The upgrade walked back: serverRequireSasl off, then learnerRequireSasl, then enableSasl.
    In the last roll a member with SASL off (a lower id, restarted first) dials peers that still
    have it enabled: they wait for its auth packet or the end of the stream, so it must close
    after its initial message, as ZooKeeper's does, for them to dial back."""
    if impls and not refzk.available():
        pytest.skip("Apache ZooKeeper is not installed")
    ens = sasl_ensemble(tmp_path, impls)
    ensembles.append(ens)
    ens.start()
    written_everywhere(ens, client_factory, "/step0")
    steps = [{"quorum.auth.serverRequireSasl": "false"},
             {"quorum.auth.learnerRequireSasl": "false"}, {"quorum.auth.enableSasl": "false"}]
    for n, keys in enumerate(steps, 1):
        for member in sorted(ens.followers(), key=lambda m: m.myid) + [ens.leader()]:
            restart_with(ens, member, keys)
            written_everywhere(ens, client_factory, f"/step{n}-{member.myid}")
    for member in ens.members.values():
        assert serving(member), member.log_tail()


@pytest.mark.parametrize("impls", [None, ["zookube", "apache", "zookube"]], ids=["same", "mixed"])
def test_sasl_runs_inside_the_quorum_tls(tmp_path, certs, ensembles, client_factory,  # noqa: F811
                                         impls):
    if impls and not refzk.available():
        pytest.skip("Apache ZooKeeper is not installed")
    ens = sasl_ensemble(tmp_path, impls)
    for sid, member in ens.members.items():
        member.cfg.update(tls_keys(certs, sid))
        member.cfg["sslQuorum"] = "true"
    ensembles.append(ens)
    ens.start()
    written_everywhere(ens, client_factory, "/tls-and-sasl")
    for member in ens.members.values():
        assert zookube_authenticated(member), member.log_tail()
        if member.impl == "zookube":
            assert mntr_value(member, "zk_quorum_tls_handshakes") >= 2


def test_requiring_sasl_without_enabling_it_refuses_to_start(tmp_path):
    server = harness.Server(str(tmp_path), **{"quorum.auth.serverRequireSasl": "true",
                                              "quorum.auth.learnerRequireSasl": "true",
                                              "server.1": "127.0.0.1:1:2",
                                              "server.2": "127.0.0.1:3:4"})
    server.myid = 1
    server.launch()
    harness.wait_until(lambda: not server.alive(), timeout=30, what="the member to exit")
    assert "quorum.auth.enableSasl is disabled" in log_of(server)


# ---- A learner that asks to act as another user ----

MAGIC = -0xa0dbcafecafe1234 & 0xFFFFFFFFFFFFFFFF
IN_PROGRESS, SUCCESS, ERROR = 0, 1, -1


def auth_packet(status, token):
    return struct.pack(">Qi", MAGIC, status) + struct.pack(">i", len(token)) + token


def read_exactly(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def read_auth_packet(sock):
    magic, status, length = struct.unpack(">Qii", read_exactly(sock, 16))
    assert magic == MAGIC
    return status, (read_exactly(sock, length) if length > 0 else b"")


def digest_response(challenge, user, password, authzid):
    """RFC 2831's response to `challenge`, for `user`, asking to act as `authzid`."""
    fields = dict(re.findall(r'([a-z-]+)="?([^",]*)"?', challenge.decode()))
    realm, nonce, cnonce = fields["realm"], fields["nonce"], "learner-cnonce"
    uri = f"zookeeper-quorum/{realm}"

    def md5(data):
        return hashlib.md5(data).digest()

    def hex_md5(data):
        return hashlib.md5(data).hexdigest().encode()

    a1 = md5(f"{user}:{realm}:{password}".encode()) + \
        f":{nonce}:{cnonce}:{authzid}".encode()
    a2 = f"AUTHENTICATE:{uri}".encode()
    response = hex_md5(hex_md5(a1) + f":{nonce}:00000001:{cnonce}:auth:".encode() + hex_md5(a2))
    return (f'charset=utf-8,username="{user}",realm="{realm}",nonce="{nonce}",nc=00000001,'
            f'cnonce="{cnonce}",digest-uri="{uri}",maxbuf=65536,response={response.decode()},'
            f'qop=auth,authzid="{authzid}"').encode()


def test_a_learner_asking_to_act_as_another_user_is_refused(tmp_path, ensembles, client_factory):
    """As ZooKeeper's SaslQuorumServerCallbackHandler: the right password is not enough, the
    learner's authorization id must be its own. The same exchange asking for its own is let in,
    which shows the response is otherwise right."""
    ens = sasl_ensemble(tmp_path)
    ensembles.append(ens)
    ens.start()
    leader = ens.leader()
    for authzid, expected in (("zkpeer", SUCCESS), ("someone-else", ERROR)):
        with socket.create_connection(("127.0.0.1", leader.quorum_port), timeout=10) as sock:
            sock.sendall(auth_packet(IN_PROGRESS, b""))
            status, challenge = read_auth_packet(sock)
            assert status == IN_PROGRESS, challenge
            sock.sendall(auth_packet(IN_PROGRESS, digest_response(
                challenge, "zkpeer", "quorum-secret", authzid)))
            status, _ = read_auth_packet(sock)
            assert status == expected, (authzid, status)
    marker = "asked to act as someone-else" if leader.impl == "zookube" else \
        "is not authorized to act as someone-else"
    harness.wait_until(lambda: marker in log_of(leader), timeout=10, what="the refusal logged")
    written_everywhere(ens, client_factory, "/after-the-impostor")
