"""Rotating the operator's CA under a TLS quorum of real members (kubelet.py runs zookube-server
for each pod and rewrites the Secret volumes' files in place) while a kazoo client writes.

The zookube.dev/rotate-ca annotation starts it: both CAs trusted, then member certificates from
the new one, then the old one dropped, each step an Event and status.tls.caRotation; no member is
restarted, no acknowledged write is lost, no quorum warning is raised.
"""

import copy
import subprocess

from kazoo.client import KazooClient

from test_kube_member_tls import events, secret_files
from test_kube_operator import CLUSTER, ZK, cluster
from test_kube_reconfig import (QUORUM_WARNINGS, Writer, history, operator_running, ports,
                                ports_below_ephemeral, wait_until)


def create(api):
    obj = copy.deepcopy(CLUSTER)
    p = ports()
    p["secureClient"] = ports_below_ephemeral.free_block(100)
    obj["spec"].update({"voters": 3, "observers": 0, "ports": p,
                        "tls": {"client": "both", "clientAuth": "none", "quorum": True,
                                "caRotationStep": "4s"},
                        "config": {"tickTime": "200", "initLimit": "20", "syncLimit": "10"}})
    with api.store.lock:
        api.store.create(*ZK, obj)


def annotate(api, value):
    def edit(old):
        old["metadata"].setdefault("annotations", {})["zookube.dev/rotate-ca"] = value
        return old
    with api.store.lock:
        api.store.write(*ZK, "demo", None, edit, "update", "kubectl")


def running(api):
    status = cluster(api).get("status", {})
    return status.get("phase") == "Running" and status.get("readyMembers") == 3


def issued_by(tmp_path, ca_pem, keystore):
    (tmp_path / "ca.pem").write_text(ca_pem)
    (tmp_path / "leaf.pem").write_text(keystore[keystore.index("-----BEGIN CERTIFICATE"):])
    r = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"),
                        str(tmp_path / "leaf.pem")], capture_output=True, timeout=30)
    return r.returncode == 0


def test_an_annotation_rotates_the_ca_with_no_restart_and_no_lost_write(api, kubelet, tmp_path):
    create(api)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api), "3 voters with a TLS quorum running", log, kubelet)
        old_ca = secret_files(api, "demo-zk-ca")["tls.crt"]
        started = list(kubelet.starts)
        zk = KazooClient(hosts=kubelet.connect_string(), timeout=10)
        zk.start(timeout=20)
        parent = zk.create("/rotation")
        phases = set()

        def rotated():
            phases.add(cluster(api)["status"].get("tls", {}).get("caRotation", ""))
            done = any(e["reason"] == "CARotationCompleted" for e in events(api))
            return done and running(api)

        with Writer(zk, parent) as writer:
            writer.wait_for_more()
            annotate(api, "2026-12-05")
            wait_until(rotated, "the CA rotated", log, kubelet, timeout=120)
            writer.wait_for_more()
        assert writer.failures == []
        assert writer.lost() == []
        zk.stop()
        zk.close()
        reasons = [e["reason"] for e in events(api)]
        for step in ("CARotationStarted", "CARotationSwitched", "CARotationCompleted"):
            assert step in reasons, reasons
        assert {"Trusting", "Switched"} <= phases, phases
        assert kubelet.starts == started, "a member was restarted"
        warned = [s for s in history(api) if s[0] == "event" and s[1] in QUORUM_WARNINGS]
        assert warned == [], warned
    ca = secret_files(api, "demo-zk-ca")
    assert ca["tls.crt"] != old_ca
    assert not {"next.crt", "next.key", "previous.crt"} & set(ca), sorted(ca)
    members = secret_files(api, "demo-zk-tls")
    assert members["ca.crt"] == ca["tls.crt"]  # only the new CA is trusted
    for pod in ("demo-0", "demo-1", "demo-2"):
        assert issued_by(tmp_path, ca["tls.crt"], members[f"{pod}.pem"]), pod
        assert not issued_by(tmp_path, old_ca, members[f"{pod}.pem"]), pod
