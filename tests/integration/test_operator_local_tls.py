"""zookube-operator --local with spec.tls: the operator issues a CA and every member's
certificate, writes them into the members' directories, and the members serve TLS on the client
port. `both` keeps plaintext working beside TLS (a migration's middle step); `on` leaves only the
secure port, where plaintext is refused; the operator keeps probing and reconfiguring throughout.
The evidence is what clients see: kazoo over TLS with the operator's CA and client certificate,
plaintext kazoo, and the certificates the members present, read with Python's ssl module.
"""

import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import time

import pytest
from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError

import harness
import ports
from certs import make_ca
from roll_watch import RollWatch
from test_operator_local import OPERATOR, LocalCluster, Writer, check_writes, \
    server_pids_under  # noqa: F401

pytestmark = pytest.mark.skipif(
    harness.impl() != "zookube" or not os.path.exists(OPERATOR),
    reason="needs zookube-operator and zookube-server built")

KINDS = ("client", "quorum", "election", "metrics", "admin", "secureClient")
SPAN = 12


class TlsCluster(LocalCluster):
    def __init__(self, workdir, tls):
        super().__init__(workdir)
        base = ports.free_block((len(KINDS) + 1) * SPAN)
        self.spec["spec"]["ports"] = {k: base + i * SPAN for i, k in enumerate(KINDS)}
        self.metrics_port = base + len(KINDS) * SPAN
        self.spec["spec"]["observers"] = 0
        self.spec["spec"]["tls"] = tls
        self.write_manifest()

    def tls(self):
        return self.ensemble()["tls"]

    def client(self, secure=True, cert=True):
        kwargs = {}
        if secure:
            t = self.tls()
            kwargs = dict(use_ssl=True, ca=t["ca"], verify_certs=True)
            if cert:
                kwargs.update(certfile=t["certfile"], keyfile=t["keyfile"])
        return KazooClient(hosts=self.ensemble()["connect"], timeout=10.0, **kwargs)


def writes(zk, path):
    try:
        zk.start(timeout=15)
        zk.ensure_path("/tls")
        zk.create(path, b"x")
        return zk.get(path)[0] == b"x"
    finally:
        zk.stop()
        zk.close()


def refused(zk):
    """Whether a kazoo client fails to get a session."""
    try:
        zk.start(timeout=4)
    except KazooTimeoutError:
        return True
    finally:
        zk.stop()
        zk.close()
    return False


def presented_certificate(cluster, port):
    """The member's certificate on `port`, checked against the operator's CA and 127.0.0.1."""
    t = cluster.tls()
    ctx = ssl.create_default_context(cafile=t["ca"])
    ctx.load_cert_chain(t["certfile"], t["keyfile"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.getpeercert()


@pytest.fixture
def make_cluster(tmp_path):
    made = []

    def make(tls, prepare=None):
        workdir = tmp_path / f"c{len(made)}"
        workdir.mkdir()
        c = TlsCluster(workdir, tls)
        made.append(c)
        if prepare:
            prepare(c)
        c.start_operator()
        return c
    yield make
    for c in made:
        c.cleanup()


def test_both_serves_tls_and_plaintext_on_the_client_port(make_cluster):
    cluster = make_cluster({"client": "both", "clientAuth": "need"})
    members = cluster.wait_healthy(observers=0)
    assert cluster.tls()["mode"] == "both"
    for m in members:
        port = int(m["client"].rsplit(":", 1)[1])
        cert = presented_certificate(cluster, port)
        sans = {v for k, v in cert["subjectAltName"]}
        assert {f"{m['name']}.demo-headless.default.svc.cluster.local", "localhost",
                "demo-client.default.svc", "127.0.0.1"} <= sans, sans
    assert writes(cluster.client(), "/tls/over-tls")
    assert writes(cluster.client(secure=False), "/tls/plaintext")
    # clientAuth need: TLS without a client certificate gets no session.
    assert refused(cluster.client(cert=False))
    ca = open(cluster.tls()["ca"]).read()
    assert "BEGIN CERTIFICATE" in ca and "PRIVATE" not in ca
    key = os.path.join(cluster.state, "tls", "ca.key")
    assert os.stat(key).st_mode & 0o077 == 0
    # The operator exports when each member's certificate expires (default duration 8760h).
    def expiries():
        found = re.findall(r'zookube_certificate_expiry_seconds\{cluster="demo",member="(demo-\d)"\}'
                           r' ([0-9.e+]+)', cluster.metrics())
        return found if len(found) == 3 else None
    expiry = dict(harness.wait_until(expiries, timeout=30, what="expiry metric"))
    for member, value in expiry.items():
        assert abs(float(value) - (time.time() + 365 * 86400)) < 3600, (member, value)
    # status.tls as Kubernetes mode fills it: the mode, the CA's fingerprint, each member's expiry.
    tls = harness.wait_until(lambda: cluster.status().get("tls"), timeout=30, what="status.tls")
    assert (tls["client"], tls["source"]) == ("both", "operator")
    der = ssl.PEM_cert_to_DER_cert(ca)
    assert tls["caFingerprint"] == ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert {m["name"]: m["notAfter"] for m in tls["members"]} == {
        member: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(value)))
        for member, value in expiry.items()}
    ready = next(c for c in cluster.status()["conditions"] if c["type"] == "TLSReady")
    assert (ready["status"], ready["reason"]) == ("True", "CertificatesValid"), ready


def plaintext_refused(port):
    """A plaintext connect request on `port` gets no answer: the listener closes or is absent."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"srvr")
            return s.recv(100) == b""
    except OSError:
        return True


def old_plain_ports_closed(cluster):
    base = cluster.spec["spec"]["ports"]
    for m in cluster.ensemble()["members"]:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", base["client"] + m["id"] - 1), timeout=5)


def test_on_serves_tls_only_and_the_operator_still_reconfigures(make_cluster):
    cluster = make_cluster({"client": "on"})
    members = cluster.wait_healthy(observers=0)
    base = cluster.spec["spec"]["ports"]
    for m in members:
        port = int(m["client"].rsplit(":", 1)[1])
        assert port - base["secureClient"] == m["id"] - 1
        assert plaintext_refused(port)
    old_plain_ports_closed(cluster)
    assert writes(cluster.client(), "/tls/on")
    assert refused(cluster.client(secure=False))
    # No member listens on its old plaintext port any more (the membership still named it).
    old_plain_ports_closed(cluster)
    # The operator's srvr and reconfig go through its TLS relays: scaling to 5 voters needs both.
    cluster.spec["spec"]["voters"] = 5
    cluster.write_manifest()
    cluster.wait_healthy(observers=0, voters=5)
    assert sorted(cluster.membership()) == [1, 2, 3, 4, 5]



def test_both_then_on_keeps_the_data_and_ends_plaintext(make_cluster):
    cluster = make_cluster({"client": "both"})
    cluster.wait_healthy(observers=0)
    assert writes(cluster.client(secure=False), "/tls/before")
    cluster.spec["spec"]["tls"]["client"] = "on"
    cluster.write_manifest()
    harness.wait_until(lambda: cluster.tls()["mode"] == "on" and cluster.healthy(0),
                       timeout=90, interval=0.2, what="rolled onto tls.client on")
    zk = cluster.client()
    zk.start(timeout=15)
    try:
        assert zk.get("/tls/before")[0] == b"x"
    finally:
        zk.stop()
        zk.close()
    assert refused(cluster.client(secure=False))
    # No member listens on its old plaintext port any more (the membership still named it).
    old_plain_ports_closed(cluster)


def roll_tls_client_to(cluster, mode):
    """Changes tls.client to `mode` and waits for the roll to restart each of the 3 voters once,
    watching that the operator kept every member it had not restarted yet in reach (RollWatch)."""
    before = len(cluster.history())

    def restarted():
        return [h["member"] for h in cluster.history()[before:]]
    with RollWatch(cluster.status, restarted, members=3) as watch:
        cluster.spec["spec"]["tls"]["client"] = mode
        cluster.write_manifest()
        harness.wait_until(lambda: len(restarted()) == 3 and cluster.healthy(0), timeout=120,
                           interval=0.2, what=f"rolled onto tls.client {mode}")
    watch.check()
    assert sorted(restarted()) == ["demo-0", "demo-1", "demo-2"], restarted()
    # Each member records what it was started with: how the operator reaches it.
    for m in ("demo-0", "demo-1", "demo-2"):
        with open(os.path.join(cluster.state, "members", m, "process.json")) as f:
            assert json.load(f)["access"] == f"tls={mode},sasl=false,enforce=false"


def test_on_back_to_both_then_off_keeps_every_member_in_reach_under_load(make_cluster):
    """Issue 22's migration in reverse, one spec change a step: until the roll reaches a member
    the operator reaches it as it still runs (its TLS relay for `on`, plaintext for `both`), so
    no member looks down, the roll never stalls, and clients writing all along lose nothing:
    a TLS client on the secure ports through on -> both, a plaintext one through both -> off."""
    cluster = make_cluster({"client": "on"})
    cluster.wait_healthy(observers=0)
    tls = cluster.tls()
    secure = Writer(cluster.ensemble()["connect"], use_ssl=True, ca=tls["ca"], verify_certs=True,
                    certfile=tls["certfile"], keyfile=tls["keyfile"])
    secure.start()
    harness.wait_until(lambda: len(secure.acked) > 20, timeout=30, what="TLS writes before")
    roll_tls_client_to(cluster, "both")
    acked = len(secure.acked)
    harness.wait_until(lambda: len(secure.acked) > acked + 20, timeout=30, what="TLS writes after")
    check_writes(secure)
    assert cluster.tls()["mode"] == "both"
    plain = Writer(cluster.ensemble()["connect"])  # the client ports, plaintext beside TLS
    plain.start()
    harness.wait_until(lambda: len(plain.acked) > 20, timeout=30, what="plaintext writes before")
    roll_tls_client_to(cluster, "off")
    acked = len(plain.acked)
    harness.wait_until(lambda: len(plain.acked) > acked + 20, timeout=30,
                       what="plaintext writes after")
    check_writes(plain)
    assert "tls" not in cluster.ensemble()
    # No member listens on its secure port any more, and the operator still reconfigures.
    base = cluster.spec["spec"]["ports"]
    for m in cluster.ensemble()["members"]:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", base["secureClient"] + m["id"] - 1), timeout=5)
    cluster.spec["spec"]["voters"] = 5
    cluster.write_manifest()
    cluster.wait_healthy(observers=0, voters=5)
    zk = cluster.client(secure=False)
    zk.start(timeout=15)
    try:
        zk.sync("/zookeeper/config")
        config = zk.get("/zookeeper/config")[0].decode()
    finally:
        zk.stop()
        zk.close()
    assert sorted(int(line[7:line.index("=")]) for line in config.splitlines()
                  if line.startswith("server.")) == [1, 2, 3, 4, 5], config


def test_renewal_rewrites_the_files_and_restarts_nobody(make_cluster):
    # 30 s certificates renewed with 20 s left: a renewal every ~10 s.
    cluster = make_cluster({"client": "both", "duration": "30s", "renewBefore": "20s"})
    members = cluster.wait_healthy(observers=0)
    starts = cluster.starts()
    port = int(members[0]["client"].rsplit(":", 1)[1])
    first = presented_certificate(cluster, port)["serialNumber"]
    harness.wait_until(lambda: presented_certificate(cluster, port)["serialNumber"] != first,
                       timeout=40, interval=0.5, what="a renewed certificate on the next handshake")
    assert writes(cluster.client(), "/tls/after-renewal")
    assert cluster.starts() == starts
    assert all(m["pid"] == n["pid"] for m, n in zip(members, cluster.ensemble()["members"]))


def test_quorum_tls_is_turned_on_in_three_rolls_and_the_election_port_speaks_tls(make_cluster):
    """The same planner as in Kubernetes: status.quorumTLS walks the three steps, the data stays,
    and at the end the election port presents the member's certificate."""
    cluster = make_cluster({"client": "both"})
    cluster.wait_healthy(observers=0)
    assert writes(cluster.client(secure=False), "/tls/before")
    cluster.spec["spec"]["tls"]["quorum"] = True
    cluster.write_manifest()
    seen = set()

    def migrated():
        q = cluster.status().get("quorumTLS", {})
        seen.add(q.get("stage"))
        return q.get("stage") == "TLS" and "migration" not in q and cluster.healthy(0)
    harness.wait_until(migrated, timeout=240, interval=0.2, what="the quorum migrated to TLS")
    assert {"PortUnification", "TLSUnified", "TLS"} <= seen, seen
    assert writes(cluster.client(secure=False), "/tls/after")
    election = cluster.spec["spec"]["ports"]["election"]  # member 0 adds no offset
    assert presented_certificate(cluster, election)["subject"]


def rotation_events(cluster):
    """The CA rotation's Events in the order the operator reported them (its output)."""
    return re.findall(r"\b(CARotation(?:Started|Switched|Completed)): ", cluster.output())


def test_the_rotate_ca_annotation_rotates_the_ca_under_load_with_no_restart(make_cluster,
                                                                          tmp_path):
    """The same three steps as Kubernetes mode, kept in <state-dir>/tls, asked for by the
    zookube.dev/rotate-ca annotation in the manifest file: members trust both CAs, then present
    certificates from the new one, then trust only it; they reload the files, nobody restarts,
    and a client writing over TLS all along loses nothing."""
    cluster = make_cluster({"client": "both", "quorum": True, "caRotationStep": "4s"})
    harness.wait_until(lambda: cluster.healthy(0)
                       and cluster.status().get("quorumTLS", {}).get("stage") == "TLS",
                       timeout=90, interval=0.2, what="3 voters with a TLS quorum")
    members = cluster.ensemble()["members"]
    starts = cluster.starts()
    old_ca = tmp_path / "old-ca.crt"
    old_ca.write_text(open(os.path.join(cluster.state, "tls", "ca.crt")).read())
    tls = cluster.tls()
    writer = Writer(cluster.ensemble()["connect"], use_ssl=True, ca=tls["ca"], verify_certs=True,
                    certfile=tls["certfile"], keyfile=tls["keyfile"])
    writer.start()
    harness.wait_until(lambda: len(writer.acked) > 20, timeout=30, what="writes before")
    cluster.spec["metadata"]["annotations"] = {"zookube.dev/rotate-ca": "2026-12-05"}
    cluster.write_manifest()
    phases = []

    def rotated():
        phase = cluster.status().get("tls", {}).get("caRotation", "")
        if not phases or phases[-1] != phase:
            phases.append(phase)
        return "CARotationCompleted" in rotation_events(cluster) and phase == "" \
            and cluster.healthy(0)
    harness.wait_until(rotated, timeout=90, interval=0.1, what="the CA rotated")
    acked = len(writer.acked)
    harness.wait_until(lambda: len(writer.acked) > acked + 20, timeout=30, what="writes after")
    check_writes(writer)
    assert rotation_events(cluster) == [
        "CARotationStarted", "CARotationSwitched", "CARotationCompleted"], cluster.output()
    assert [p for p in phases if p] == ["Trusting", "Switched"], phases
    assert cluster.starts() == starts, "a member was restarted"
    assert [m["pid"] for m in cluster.ensemble()["members"]] == [m["pid"] for m in members]
    # Only the new CA is left, in every member's trust store, and it issued every keystore.
    state_tls = os.path.join(cluster.state, "tls")
    new_ca = open(os.path.join(state_tls, "ca.crt")).read()
    assert new_ca != old_ca.read_text()
    assert open(os.path.join(state_tls, "trusted.crt")).read() == new_ca
    for gone in ("next.crt", "next.key", "previous.crt", "rotation-since"):
        assert not os.path.exists(os.path.join(state_tls, gone)), gone
    for m in members:
        port = int(m["client"].rsplit(":", 1)[1])
        assert presented_certificate(cluster, port)["subject"]  # checked against the new CA
    assert writes(cluster.client(), "/tls/after-rotation")
    # A client that trusts only the old CA gets no session: no member presents it any more.
    stale = KazooClient(hosts=cluster.ensemble()["connect"], timeout=10.0, use_ssl=True,
                        ca=str(old_ca), verify_certs=True, certfile=tls["certfile"],
                        keyfile=tls["keyfile"])
    assert refused(stale)
    # Nothing more happened meanwhile: the annotation's value was answered once.
    assert len(rotation_events(cluster)) == 3


def test_an_operator_killed_mid_rotation_resumes_it_from_the_state_directory(make_cluster):
    """The rotation's state is in <state-dir>/tls, not in the operator: killed with SIGKILL while
    the members trust both CAs, a new operator takes the next steps and starts no second one."""
    cluster = make_cluster({"client": "both", "caRotationStep": "3s"})
    members = cluster.wait_healthy(observers=0)
    starts = cluster.starts()
    cluster.spec["metadata"]["annotations"] = {"zookube.dev/rotate-ca": "once"}
    cluster.write_manifest()
    harness.wait_until(lambda: cluster.status().get("tls", {}).get("caRotation") == "Trusting",
                       timeout=30, interval=0.1, what="the rotation's first step")
    cluster.kill9_operator()
    assert os.path.exists(os.path.join(cluster.state, "tls", "next.key"))
    cluster.start_operator()
    harness.wait_until(lambda: "CARotationCompleted" in rotation_events(cluster)
                       and cluster.healthy(0), timeout=60, interval=0.1, what="the CA rotated")
    assert rotation_events(cluster) == [
        "CARotationStarted", "CARotationSwitched", "CARotationCompleted"], cluster.output()
    assert cluster.starts() == starts, "a member was restarted"
    assert [m["pid"] for m in cluster.ensemble()["members"]] == [m["pid"] for m in members]
    assert writes(cluster.client(), "/tls/after-resumed-rotation")


def users_ca(d):
    """A CA as a user makes one (openssl req -x509): ca.pem and ca.key in `d`."""
    d.mkdir()
    make_ca(d, "ca")
    return d


def put_users_ca(cluster, ca):
    """The CA into the Secret spec.tls.caSecretRef names, as local mode reads Secrets:
    <state-dir>/secrets/users-ca/<key>, each file replaced whole."""
    folder = os.path.join(cluster.state, "secrets", "users-ca")
    os.makedirs(folder, exist_ok=True)
    for key, made in (("tls.key", "ca.key"), ("tls.crt", "ca.pem")):
        shutil.copy(ca / made, os.path.join(folder, key + ".new"))
    for key in ("tls.key", "tls.crt"):
        os.replace(os.path.join(folder, key + ".new"), os.path.join(folder, key))


def users_ca_events(cluster):
    return re.findall(r"\b(CARotation(?:Started|Switched|Completed|Cancelled)): (.*)",
                      cluster.output())


def test_a_users_ca_replaced_in_its_secret_is_followed_in_three_steps(make_cluster, tmp_path):
    """spec.tls.caSecretRef: the operator issues from the user's CA, and when the user puts
    another in its Secret the members trust both, then present certificates from the new one,
    then trust only it, with nobody restarted and no write lost."""
    first, second = users_ca(tmp_path / "first"), users_ca(tmp_path / "second")
    cluster = make_cluster({"client": "both", "quorum": True, "caRotationStep": "3s",
                            "caSecretRef": {"name": "users-ca"}},
                           prepare=lambda c: put_users_ca(c, first))
    harness.wait_until(lambda: cluster.healthy(0)
                       and cluster.status().get("quorumTLS", {}).get("stage") == "TLS",
                       timeout=90, interval=0.2, what="3 voters with a TLS quorum")
    state_tls = os.path.join(cluster.state, "tls")
    assert open(os.path.join(state_tls, "ca.crt")).read() == (first / "ca.pem").read_text()
    members = cluster.ensemble()["members"]
    starts = cluster.starts()
    tls = cluster.tls()
    writer = Writer(cluster.ensemble()["connect"], use_ssl=True, ca=tls["ca"], verify_certs=True,
                    certfile=tls["certfile"], keyfile=tls["keyfile"])
    writer.start()
    harness.wait_until(lambda: len(writer.acked) > 20, timeout=30, what="writes before")
    put_users_ca(cluster, second)

    def rotated():
        done = [e for e, _ in users_ca_events(cluster)] == [
            "CARotationStarted", "CARotationSwitched", "CARotationCompleted"]
        return done and cluster.status().get("tls", {}).get("caRotation", "") == "" \
            and cluster.healthy(0)
    harness.wait_until(rotated, timeout=90, interval=0.1, what="the members on the new CA")
    acked = len(writer.acked)
    harness.wait_until(lambda: len(writer.acked) > acked + 20, timeout=30, what="writes after")
    check_writes(writer)
    started = users_ca_events(cluster)[0][1]
    assert "users-ca (spec.tls.caSecretRef) holds a new CA" in started, started
    assert cluster.starts() == starts, "a member was restarted"
    assert [m["pid"] for m in cluster.ensemble()["members"]] == [m["pid"] for m in members]
    new_ca = (second / "ca.pem").read_text()
    assert open(os.path.join(state_tls, "ca.crt")).read() == new_ca
    assert open(os.path.join(state_tls, "trusted.crt")).read() == new_ca
    # A client trusting only the user's new CA writes; one trusting only the old gets nothing.
    assert writes(KazooClient(hosts=cluster.ensemble()["connect"], timeout=10.0, use_ssl=True,
                              ca=str(second / "ca.pem"), verify_certs=True,
                              certfile=tls["certfile"], keyfile=tls["keyfile"]),
                  "/tls/on-the-users-new-ca")
    assert refused(KazooClient(hosts=cluster.ensemble()["connect"], timeout=10.0, use_ssl=True,
                               ca=str(first / "ca.pem"), verify_certs=True,
                               certfile=tls["certfile"], keyfile=tls["keyfile"]))
    # The user's Secret is as the user left it.
    folder = os.path.join(cluster.state, "secrets", "users-ca")
    assert open(os.path.join(folder, "tls.crt")).read() == new_ca
    assert sorted(os.listdir(folder)) == ["tls.crt", "tls.key"]


def test_turning_tls_off_removes_the_tls_files_once_no_member_uses_them(make_cluster, tmp_path):
    ca = users_ca(tmp_path / "users")
    cluster = make_cluster({"client": "both", "caSecretRef": {"name": "users-ca"}},
                           prepare=lambda c: put_users_ca(c, ca))
    members = [m["name"] for m in cluster.wait_healthy(observers=0)]
    made = [os.path.join(cluster.state, "tls")] + [
        os.path.join(cluster.state, "members", m, "tls") for m in members]
    assert all(os.path.isdir(d) for d in made)
    cluster.spec["spec"]["tls"] = {"client": "off", "caSecretRef": {"name": "users-ca"}}
    cluster.write_manifest()
    harness.wait_until(lambda: not any(os.path.exists(d) for d in made) and cluster.healthy(0),
                       timeout=90, interval=0.2, what="plaintext members and the TLS files gone")
    assert writes(cluster.client(secure=False), "/tls/plaintext-again")
    lines = cluster.output().splitlines()
    deleted = [i for i, line in enumerate(lines) if "ObjectDeleted: " in line]
    assert sorted(lines[i].split("ObjectDeleted: ")[1].split(" deleted:")[0]
                  for i in deleted) == sorted(made), lines
    # Only once every member had restarted on its plaintext zoo.cfg.
    restarts = [i for i, line in enumerate(lines) if ": started (pid" in line]
    assert len(restarts) >= 2 * len(members) and restarts[-1] < min(deleted), lines
    # The user's Secret stays.
    folder = os.path.join(cluster.state, "secrets", "users-ca")
    assert open(os.path.join(folder, "tls.crt")).read() == (ca / "ca.pem").read_text()
