"""spec.tls.quorum turned on for a running ensemble of real members (the kubelet stand-in runs
zookube-server for each pod, kubelet.py) while a kazoo client keeps writing.

What it shows: one spec change walks ZooKeeper's three rolling steps (portUnification, then
sslQuorum, then portUnification off), each a roll that restarts the observer first and the leader
last and starts only once every member is back in sync; status.quorumTLS says which step; no
acknowledged write is lost, the writer sees no error beyond reconnects, no quorum warning is
raised; at the end a member's election port speaks TLS to a certificate of the cluster's CA.
"""

import copy
import socket
import ssl

from kazoo.client import KazooClient

from test_kube_member_tls import client_pki  # noqa: F401 - a fixture
from test_kube_operator import CLUSTER, ZK, change_spec, cluster
from test_kube_reconfig import (QUORUM_WARNINGS, Writer, history, operator_running, ports,
                                ports_below_ephemeral, wait_until)

TLS_STEPS = ["PortUnification", "TLSUnified", "TLS"]


def create(api, voters, observers, quorum=False):
    obj = copy.deepcopy(CLUSTER)
    p = ports()
    p["secureClient"] = ports_below_ephemeral.free_block(100)
    obj["spec"].update({"voters": voters, "observers": observers, "ports": p,
                        "tls": {"client": "both", "clientAuth": "want", "quorum": quorum},
                        "config": {"tickTime": "200", "initLimit": "20", "syncLimit": "10"}})
    with api.store.lock:
        api.store.create(*ZK, obj)
    return p


def quorum_tls(api):
    return cluster(api).get("status", {}).get("quorumTLS", {})


def running(api, members):
    status = cluster(api).get("status", {})
    return status.get("phase") == "Running" and status.get("readyMembers") == members


def handshake(port, pki):
    """A TLS handshake with the member's election port, presenting a certificate of the CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(pki / "ca.crt"))
    ctx.load_cert_chain(str(pki / "client.crt"), str(pki / "client.key"))
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as tls:
            return tls.version()


def test_quorum_tls_is_turned_on_in_three_rolls_under_writes(api, kubelet, tmp_path, client_pki):
    p = create(api, voters=3, observers=1)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api, 4), "3 voters and an observer running", log, kubelet)
        assert quorum_tls(api) == {}
        zk = KazooClient(hosts=kubelet.connect_string(), timeout=10)
        zk.start(timeout=20)
        parent = zk.create("/quorum-tls")
        seen = []

        def migrated():
            q = quorum_tls(api)
            if q.get("migration") and (not seen or seen[-1] != q["migration"]):
                seen.append(q["migration"])
            # The status is written first in a pass, its Events last.
            done = any(s[:2] == ("event", "QuorumTLSEnabled") for s in history(api))
            return q.get("stage") == "TLS" and "migration" not in q and running(api, 4) and done

        with Writer(zk, parent) as writer:
            writer.wait_for_more()
            change_spec(api, tls={"client": "both", "clientAuth": "want", "quorum": True})
            wait_until(migrated, "the quorum migrated to TLS", log, kubelet, timeout=360)
            writer.wait_for_more()
        assert writer.failures == []
        assert writer.lost() == []
        zk.stop()
        zk.close()
        # The status walked the three steps in order, each announced once.
        steps = [s for s in seen if s.startswith("enabling, step")]
        assert [s[:19] for s in steps] == [f"enabling, step {i} of" for i in (1, 2, 3)], seen
        reasons = [s[1] for s in history(api) if s[0] == "event"]
        assert reasons.count("QuorumTLSStep") == 3 and "QuorumTLSEnabled" in reasons, reasons
        warned = [s for s in history(api) if s[0] == "event" and s[1] in QUORUM_WARNINGS]
        assert warned == [], warned
        # Three rolls, each restarting all four members once, the observer first.
        order = api.store.deleted_pods
        assert len(order) == 12, order
        for roll in (order[0:4], order[4:8], order[8:12]):
            assert roll[0] == "demo-observer-0" and sorted(roll) == [
                "demo-0", "demo-1", "demo-2", "demo-observer-0"], order
        with api.store.lock:
            cfg = api.store.get("v1", "configmaps", "default", "demo-config")["data"]["demo-1.cfg"]
        assert "\nsslQuorum=true\n" in cfg and "\nportUnification=false\n" in cfg, cfg
        # demo-0's election port (members add their ordinal to the spec's ports) speaks TLS.
        assert handshake(p["election"], client_pki()).startswith("TLS")


def test_a_new_ensemble_starts_on_tls_and_turning_it_off_walks_back(api, kubelet, tmp_path):
    create(api, voters=3, observers=0, quorum=True)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api, 3), "3 voters with a TLS quorum running", log, kubelet)
        assert quorum_tls(api) == {"stage": "TLS"}  # no migration: it started there
        assert api.store.deleted_pods == []
        zk = KazooClient(hosts=kubelet.connect_string(), timeout=10)
        zk.start(timeout=20)
        parent = zk.create("/quorum-plain")
        seen = []

        def plain():
            q = quorum_tls(api)
            stage = q.get("stage", "Plaintext")  # the status leaves out a plaintext quorum
            if not seen or seen[-1] != stage:
                seen.append(stage)
            done = any(s[:2] == ("event", "QuorumTLSDisabled") for s in history(api))
            return q == {} and running(api, 3) and done

        with Writer(zk, parent) as writer:
            writer.wait_for_more()
            change_spec(api, tls={"client": "both", "clientAuth": "want", "quorum": False})
            wait_until(plain, "the quorum back on plaintext", log, kubelet, timeout=300)
            writer.wait_for_more()
        assert writer.failures == []
        assert writer.lost() == []
        zk.stop()
        zk.close()
        assert seen == ["TLS", "TLSUnified", "PortUnification", "Plaintext"], seen
        assert len(api.store.deleted_pods) == 9, api.store.deleted_pods
        warned = [s for s in history(api) if s[0] == "event" and s[1] in QUORUM_WARNINGS]
        assert warned == [], warned
        with api.store.lock:
            cfg = api.store.get("v1", "configmaps", "default", "demo-config")["data"]["demo-1.cfg"]
        assert "sslQuorum" not in cfg and "\nportUnification" not in cfg, cfg
